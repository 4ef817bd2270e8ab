"""``./manage.py startrole <name>``: a new role, end to end, in a checkout.

Writes ``apps/<name>/`` (app, model, services, selectors, API, URLs, admin, a first
migration, and ``handlers.py`` for the events it consumes), ``settings/<name>.py`` and
``tests/<name>/`` (its facts for the shared suites, service and API tests, and one test per
consumed event), and adds the role to the registry (``pollsite/roles.py``), to the chart's
``roles:`` (``helm/pollsite/values.yaml``) and to the import contract that keeps the roles'
apps independent (``pyproject.toml``). Everything else (settings, URL mounting, ``make
run``, the entry point, the test runner, the chart's Deployments and NetworkPolicies, the
broker's queues and users) already follows the registry.

Nothing is written unless every check passes first; the templates are in ``templates/``.
"""

from __future__ import annotations

import keyword
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

from pollsite.events.contract import event_types_of
from pollsite.roles import ROLES

TEMPLATES = Path(__file__).resolve().parent / "templates"
NAME = re.compile(r"^[a-z][a-z0-9]{1,19}$")
#: Names a role cannot take: they are already a module, a path or a prefix of the project's.
RESERVED = {"base", "local", "test", "tests", "api", "admin", "static", "settings", "apps", "pollsite", "bench", "helm"}
REGISTRY_FILE = Path("pollsite/roles.py")
VALUES_FILE = Path("helm/pollsite/values.yaml")
CONTRACTS_FILE = Path("pyproject.toml")
INDEPENDENCE = re.compile(r'(name = "A role\'s app never imports another role\'s app"\ntype = "independence"\nmodules = \[)([^\]]*)(\])')


class ScaffoldError(ValueError):
    """The role cannot be scaffolded as asked; nothing was written."""


@dataclass
class Scaffold:
    name: str
    consumes: tuple[str, ...] = ()
    calls: tuple[str, ...] = ()
    root: Path = Path(".")
    written: list[Path] = field(default_factory=list)
    edited: list[Path] = field(default_factory=list)

    @property
    def words(self) -> dict[str, str]:
        return {"name": self.name, "Name": self.name.capitalize()}

    def check(self) -> None:
        name = self.name
        if not NAME.match(name):
            raise ScaffoldError(
                f"{name!r}: a role's name is 2-20 lowercase letters and digits, starting with a letter "
                "(it becomes a Python module, a URL prefix and part of Kubernetes names)"
            )
        if name in ROLES:
            raise ScaffoldError(f"there is already a role {name!r}")
        if name in RESERVED or keyword.iskeyword(name) or name in sys.stdlib_module_names:
            raise ScaffoldError(f"{name!r} is taken by Python or by the project; choose another name")
        for role in self.consumes:
            if role not in ROLES:
                raise ScaffoldError(f"--consumes {role}: no such role; the roles are: {', '.join(ROLES)}")
            if not ROLES[role].publishes:
                raise ScaffoldError(f"--consumes {role}: {role} publishes no events")
        for role in self.calls:
            if role not in ROLES:
                raise ScaffoldError(f"--calls {role}: no such role; the roles are: {', '.join(ROLES)}")
        for path in (Path("apps") / name, Path("settings") / f"{name}.py", Path("tests") / name):
            if (self.root / path).exists():
                raise ScaffoldError(f"{path} already exists")
        for path in (REGISTRY_FILE, VALUES_FILE, CONTRACTS_FILE):
            if not (self.root / path).is_file():
                raise ScaffoldError(f"{path} not found: run startrole at the top of a pollsite checkout")
        if not INDEPENDENCE.search((self.root / CONTRACTS_FILE).read_text()):
            raise ScaffoldError(f"{CONTRACTS_FILE}: the roles' independence contract is not where startrole expects it")

    def run(self) -> None:
        self.check()
        edits = {
            REGISTRY_FILE: self._registry((self.root / REGISTRY_FILE).read_text()),
            VALUES_FILE: self._values((self.root / VALUES_FILE).read_text()),
            CONTRACTS_FILE: self._contracts((self.root / CONTRACTS_FILE).read_text()),
        }
        files = self._files()
        for path, text in files.items():
            target = self.root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            self.written.append(path)
        for path, text in edits.items():
            (self.root / path).write_text(text)
            self.edited.append(path)

    # --- new files ---------------------------------------------------------------

    def _files(self) -> dict[Path, str]:
        files = {}
        for template in sorted(TEMPLATES.rglob("*.tmpl")):
            relative = template.relative_to(TEMPLATES).with_suffix("")  # drop .tmpl
            renamed = ("role", "role.py")
            parts = [p.replace("role", self.name) if p in renamed or p.startswith("test_role_") else p for p in relative.parts]
            files[Path(*parts)] = Template(template.read_text()).substitute(self.words)
        if self.consumes:
            files[Path("apps") / self.name / "handlers.py"] = self._handlers()
            files[Path("tests") / self.name / f"test_{self.name}_handlers.py"] = self._handler_tests()
        return files

    def _consumed_events(self):
        return [event for producer in self.consumes for event in event_types_of(producer)]

    def _handlers(self) -> str:
        events = self._consumed_events()
        payloads = sorted({event.payload.__name__ for event in events})
        functions = []
        for event in events:
            functions.append(
                f"def {_handler_name(event.key)}(payload: {event.payload.__name__}) -> None:\n"
                f'    services.entry_create(author="{event.producer}", text=_described("{event.key}", payload))\n'
            )
        table = "".join(f'    "{event.key}": {_handler_name(event.key)},\n' for event in events)
        return (
            f'"""Events the {self.name} role applies (see pollsite.events.consumer), each with its typed payload.\n\n'
            "A first version that notes each event as an entry: change each handler to what the role\n"
            'needs, and drop the events it does not (an event without a handler is acknowledged and ignored)."""\n\n'
            f"from apps.{self.name} import services\n"
            f"from pollsite.events.contract import Model, {', '.join(payloads)}\n\n\n"
            "def _described(key: str, payload: Model) -> str:\n"
            '    return f"{key} {payload.model_dump_json()}"[:200]\n\n\n' + "\n\n".join(functions) + f"\n\nHANDLERS = {{\n{table}}}\n"
        )

    def _handler_tests(self) -> str:
        return (
            f'"""The events the {self.name} role consumes, delivered through every check a broker message meets."""\n\n'
            "import uuid\n\n"
            "import pytest\n\n"
            f"from apps.{self.name} import selectors\n"
            f"from apps.{self.name}.handlers import HANDLERS\n"
            "from pollsite.events.contract import EVENT_TYPES\n"
            "from tests.support.events import deliver, example_payload\n\n"
            "pytestmark = pytest.mark.django_db\n\n\n"
            '@pytest.mark.parametrize("key", sorted(HANDLERS))\n'
            "def test_each_consumed_event_is_applied_once(key):\n"
            '    producer, _, event_type = key.partition(".")\n'
            "    payload = example_payload(EVENT_TYPES[key].payload)\n"
            "    event_id = str(uuid.uuid4())\n"
            f'    assert deliver("{self.name}", producer, event_type, payload, event_id=event_id) == "applied"\n'
            f'    assert deliver("{self.name}", producer, event_type, payload, event_id=event_id) == "duplicate"\n'
            "    [entry] = selectors.entry_list()\n"
            "    assert entry.author == producer and entry.text.startswith(key)\n"
        )

    # --- edits of shared files ---------------------------------------------------

    def _registry(self, text: str) -> str:
        lines = text.splitlines(keepends=True)
        start = next((i for i, line in enumerate(lines) if line.startswith("ROLES: dict[str, Role] = {")), None)
        entries = [i for i, line in enumerate(lines) if start is not None and i > start and line.strip().startswith("Role(")]
        if not entries:
            raise ScaffoldError(f"{REGISTRY_FILE}: no ROLES entries where startrole expects them")
        arguments = [f'"{self.name}"']
        if self.consumes:
            arguments.append(f"consumes={_tuple(self.consumes)}")
        if self.calls:
            arguments.append(f"calls={_tuple(self.calls)}")
        indent = lines[entries[-1]][: len(lines[entries[-1]]) - len(lines[entries[-1]].lstrip())]
        lines.insert(entries[-1] + 1, f"{indent}Role({', '.join(arguments)}),\n")
        return "".join(lines)

    def _values(self, text: str) -> str:
        lines = text.splitlines(keepends=True)
        start = next((i for i, line in enumerate(lines) if line.rstrip() == "roles:"), None)
        if start is None:
            raise ScaffoldError(f"{VALUES_FILE}: no top-level roles:")
        end = next((i for i in range(start + 1, len(lines)) if lines[i].strip() and not lines[i].startswith((" ", "#"))), len(lines))
        while end > start + 1 and not lines[end - 1].strip():
            end -= 1
        block = (
            f"  {self.name}:\n"
            "    enabled: true\n"
            f"    settingsModule: settings.{self.name}\n"
            f"    urlPrefix: /{self.name}/\n"
            "    publishes: false\n"
            f"    consumes: [{', '.join(self.consumes)}]\n"
            f"    calls: [{', '.join(self.calls)}]\n"
            '    externalUrl: ""\n'
        )
        lines.insert(end, block)
        return "".join(lines)

    def _contracts(self, text: str) -> str:
        def add(match: re.Match) -> str:
            modules = [m.strip() for m in match.group(2).split(",") if m.strip()]
            return match.group(1) + ", ".join([*modules, f'"apps.{self.name}"']) + match.group(3)

        return INDEPENDENCE.sub(add, text, count=1)


def _tuple(names: tuple[str, ...]) -> str:
    """A tuple of names as the formatter writes it: ("polls",) or ("polls", "choice")."""
    quoted = ", ".join(f'"{name}"' for name in names)
    return f"({quoted},)" if len(names) == 1 else f"({quoted})"


def _handler_name(key: str) -> str:
    return "on_" + key.replace(".", "_")


def role_scaffold(*, name: str, consumes: tuple[str, ...] = (), calls: tuple[str, ...] = (), root: Path = Path(".")) -> Scaffold:
    """Check, then write the new role; raises ScaffoldError (and writes nothing) when it cannot."""
    scaffold = Scaffold(name=name, consumes=tuple(consumes), calls=tuple(calls), root=root)
    scaffold.run()
    return scaffold
