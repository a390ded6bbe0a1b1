"""A real SMTP relay for the tests: aiosmtpd (PyPI) on 127.0.0.1, on a
free port, requiring STARTTLS and then AUTH (login "preau", password
"secret-relay"). Each message received is appended to OUT as one JSON
line. Prints the port once listening; stops when stdin closes.

usage: schoollog_smtp.py CERT.pem KEY.pem OUT.jsonl
"""
import json
import socket
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

cert, key, out = sys.argv[1:4]
ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)


class Handler:
    async def handle_DATA(self, server, session, envelope):
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps({
                "from": envelope.mail_from,
                "to": envelope.rcpt_tos,
                "data": envelope.content.decode("utf-8", "replace"),
                "tls": session.ssl is not None,
                "authenticated": bool(session.authenticated),
            }) + "\n")
        return "250 OK"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == b"preau"
        and auth_data.password == b"secret-relay"
    )
    return AuthResult(success=ok)


s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
controller = Controller(
    Handler(),
    hostname="127.0.0.1",
    port=port,
    server_hostname="localhost",
    tls_context=ctx,
    require_starttls=True,
    authenticator=authenticate,
    auth_required=True,
    auth_require_tls=True,
)
controller.start()
print(port, flush=True)
sys.stdin.read()
controller.stop()
