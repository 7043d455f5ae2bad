"""A real OpenID provider for the tests: tests/oidc/provider.mjs (the `oidc-provider` package) under Node.js.

`start_provider(config)` runs it on 127.0.0.1 as a subprocess and returns once it listens; the config
(clients and accounts, see provider.mjs) is written to a temporary JSON file. `sign_in()` walks the
provider's own development login and consent pages with httpx, as a browser would, and returns the
redirect back to the relying party (not followed).

The npm packages are installed by `make install` (npm ci from tests/oidc/package-lock.json).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
PROVIDER_SCRIPT = HERE / "provider.mjs"
PACKAGE_DIR = HERE / "node_modules" / "oidc-provider"
START_TIMEOUT = 20.0


class ProviderUnavailable(RuntimeError):
    """Node.js or the npm packages are missing, so no provider can be started."""


def unavailable_reason() -> str | None:
    """Why the provider cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "Node.js (node) not found; install nodejs and npm, then `make install`, to run the OpenID tests"
    if not PACKAGE_DIR.is_dir():
        return f"{PACKAGE_DIR.relative_to(REPO_ROOT)} is missing; run `make install` (npm ci) to run the OpenID tests"
    return None


@dataclass
class Provider:
    """A running provider. `issuer` is its base URL (http://127.0.0.1:<port>)."""

    issuer: str
    process: subprocess.Popen[str]
    _files: list[Path] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.issuer + path

    def discovery(self) -> dict[str, Any]:
        response = httpx.get(self.url("/.well-known/openid-configuration"), timeout=10)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()  # with --exit-with-stdin, this alone ends it
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for path in self._files:
            path.unlink(missing_ok=True)
        self._files.clear()

    def __enter__(self) -> Provider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_provider(config: dict[str, Any], port: int | None = None) -> Provider:
    """Start provider.mjs with `config` on 127.0.0.1:`port` (a free port when None); wait for it to listen."""
    reason = unavailable_reason()
    if reason:
        raise ProviderUnavailable(reason)
    node = shutil.which("node")
    assert node is not None
    fd, config_name = tempfile.mkstemp(prefix="oidc-config-", suffix=".json")
    with os.fdopen(fd, "w") as config_file:
        json.dump(config, config_file)
    # stderr goes to a file: nothing has to drain it, and it is there to quote if the start fails.
    fd, stderr_name = tempfile.mkstemp(prefix="oidc-stderr-", suffix=".log")
    files = [Path(config_name), Path(stderr_name)]
    with os.fdopen(fd, "w") as stderr_file:
        process = subprocess.Popen(
            [node, str(PROVIDER_SCRIPT), "--port", str(port or 0), "--config", config_name, "--exit-with-stdin"],
            cwd=REPO_ROOT,  # node resolves `oidc-provider` from the script's folder: tests/oidc/node_modules
            stdout=subprocess.PIPE,
            stderr=stderr_file,
            # Never written to: the provider exits when this pipe closes, i.e. when this process ends.
            stdin=subprocess.PIPE,
            text=True,
        )
    ready = threading.Event()
    issuer: list[str] = []

    def read_stdout() -> None:
        # Reads to the end, so the provider never blocks on a full pipe after READY.
        assert process.stdout is not None
        with process.stdout:
            for line in process.stdout:
                if not ready.is_set() and line.startswith("READY "):
                    issuer.append(line.split(maxsplit=1)[1].strip())
                    ready.set()
        ready.set()  # the process ended (without READY, if issuer is empty)

    threading.Thread(target=read_stdout, name="oidc-provider-stdout", daemon=True).start()
    provider = Provider(issuer="", process=process, _files=files)
    if not ready.wait(START_TIMEOUT) or not issuer:
        if process.poll() is None:
            process.kill()
        returncode = process.wait()
        stderr = Path(stderr_name).read_text(errors="replace").strip()
        provider.stop()
        raise RuntimeError(
            f"the OpenID provider did not print READY within {START_TIMEOUT:.0f}s (exit code {returncode}); "
            f"its stderr:\n{stderr}"
        )
    provider.issuer = issuer[0]
    return provider


_FORM = re.compile(r"<form\b[^>]*\baction=\"([^\"]*)\"", re.IGNORECASE)
_HIDDEN = re.compile(r"<input\b[^>]*\btype=\"hidden\"[^>]*\bname=\"([^\"]*)\"[^>]*\bvalue=\"([^\"]*)\"", re.IGNORECASE)


def sign_in(http: httpx.Client, authorization_url: str, login: str, redirect_uri: str, password: str = "any") -> str:
    """Sign in as `login` on the provider's development pages; return the redirect to `redirect_uri`.

    Follows the provider's own redirects, submits the login form (login, any password) and the consent
    form if one is shown, and stops at the first redirect to `redirect_uri`, which it does not follow:
    the caller reads `code` and `state` from it, or hands it to the app. `http` must keep cookies.
    """
    response = http.get(authorization_url, follow_redirects=False)
    for _ in range(20):
        if response.is_redirect:
            location = urljoin(str(response.url), response.headers["location"])
            if location.startswith(redirect_uri):
                return location
            response = http.get(location, follow_redirects=False)
            continue
        form = _FORM.search(response.text) if response.status_code == 200 else None
        if form is None:
            raise AssertionError(f"the provider answered {response.status_code} at {response.url}:\n{response.text}")
        data = {name: unescape(value) for name, value in _HIDDEN.findall(response.text)}
        if data.get("prompt") == "login":
            data |= {"login": login, "password": password}
        action = urljoin(str(response.url), unescape(form.group(1)))
        response = http.post(action, data=data, follow_redirects=False)
    raise AssertionError(f"no redirect to {redirect_uri} after 20 steps; last at {response.url}")
