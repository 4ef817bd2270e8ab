"""Path converters shared by every role's URLs."""

BIGINT_MAX = 2**63 - 1


class IdConverter:
    """A database id: digits that fit PostgreSQL's bigint. Anything larger matches no URL (404)."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > BIGINT_MAX:
            raise ValueError("beyond bigint")  # Django treats this as "no match"
        return number

    def to_url(self, value: int) -> str:
        return str(value)
