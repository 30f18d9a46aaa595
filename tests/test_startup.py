"""Start-up refuses a wrong property file with a message that names the field and the fix."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from stack.processes import free_port


def bad_property_file(tmp_path: Path) -> Path:
    data = yaml.safe_load(Path("property.yml").read_text())
    data["hours"]["monday"] = "9am-5pm"
    path = tmp_path / "property.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_action_server_refuses_a_bad_property_file(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PROPERTY_FILE": str(bad_property_file(tmp_path)), "HOME": str(tmp_path),
           "RASA_TELEMETRY_ENABLED": "false"}
    rasa = str(Path(sys.executable).parent / "rasa")
    done = subprocess.run([rasa, "run", "actions", "--port", str(free_port())], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "hours.monday" in output and '"09:00-17:00"' in output


def test_make_run_refuses_a_bad_property_file(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PROPERTY_FILE": str(bad_property_file(tmp_path)), "HOME": str(tmp_path),
           "RASA_TELEMETRY_ENABLED": "false"}
    done = subprocess.run([sys.executable, "-m", "stack"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "hours.monday" in done.stderr and "24-hour clock" in done.stderr
