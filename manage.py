#!/usr/bin/env python
"""Role-aware manage.py: ``./manage.py --role vote migrate`` or DJANGO_SETTINGS_MODULE=settings.vote."""

import os
import sys


def main() -> None:
    from pollsite.config.localenv import load_local_env
    from pollsite.roles import ROLES, get_role

    argv = list(sys.argv)
    if "--role" in argv[1:] or any(arg.startswith("--role=") for arg in argv[1:]):
        for index, arg in enumerate(argv[1:], start=1):
            if arg == "--role":
                if index + 1 >= len(argv):
                    sys.exit(f"--role needs a value: one of {', '.join(ROLES)}")
                name = argv[index + 1]
                del argv[index : index + 2]
                break
            if arg.startswith("--role="):
                name = arg.split("=", 1)[1]
                del argv[index]
                break
        try:
            os.environ["DJANGO_SETTINGS_MODULE"] = get_role(name).settings_module
        except KeyError as exc:
            sys.exit(str(exc.args[0]))
    elif argv[1:2] == ["startrole"] and not os.environ.get("DJANGO_SETTINGS_MODULE"):
        # Scaffolding a role touches no role's database: any role's settings will do.
        os.environ["DJANGO_SETTINGS_MODULE"] = next(iter(ROLES.values())).settings_module
    elif not os.environ.get("DJANGO_SETTINGS_MODULE"):
        sys.exit(
            "manage.py needs a role: ./manage.py --role <role> <command>, or set "
            f"DJANGO_SETTINGS_MODULE=settings.<role>. The roles are: {', '.join(ROLES)}."
        )
    load_local_env()
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
