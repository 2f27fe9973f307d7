"""The frozen executable's entry point: inspector's whole command line.

``inspector`` (the window), ``inspector serve ...`` (what the window starts as its capture
child when frozen, see inspector.gui.capture.serve_command), ``validate``, ``audit`` and
every other subcommand, exactly as the ``inspector`` script of a pip install.
"""

from inspector.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
