"""Allow ``python -m assistant``; also the entry script of the PyInstaller build (``segue``).

In the frozen build this script is the only way in, so it also serves the helper processes:
``multiprocessing`` children (the spawned voice engine) and ``segue --run-module MODULE`` (the
popup and other Tk windows, see ``assistant.resources.module_command``).
"""

import multiprocessing
import sys

if __name__ == "__main__":
    # A frozen multiprocessing child runs its task here and exits; a no-op otherwise.
    multiprocessing.freeze_support()

    from assistant.resources import run_module_if_asked

    try:
        status = run_module_if_asked(sys.argv[1:])
    except ValueError as err:  # a malformed --run-module request
        print(err, file=sys.stderr)
        raise SystemExit(2) from None
    if status is None:
        from assistant.cli import main

        status = main()
    raise SystemExit(status)
