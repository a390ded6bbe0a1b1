"""The CAS client side of tests/sso.rs, with python-cas (an independent
implementation of CAS 1, 2 and 3 clients).

    sso_cas_client.py login-url CAS_URL SERVICE
    sso_cas_client.py verify CAS_URL SERVICE TICKET VERSION

`verify` prints {"user": ..., "attributes": ..., "pgtiou": ...} as JSON;
user is null when the server refused the ticket.
"""
import json
import sys

from cas import CASClient


def main():
    command, server, service = sys.argv[1:4]
    if command == "login-url":
        client = CASClient(version=3, server_url=server, service_url=service)
        print(client.get_login_url())
        return
    ticket, version = sys.argv[4], int(sys.argv[5])
    client = CASClient(version=version, server_url=server, service_url=service)
    user, attributes, pgtiou = client.verify_ticket(ticket)
    print(json.dumps({"user": user, "attributes": attributes, "pgtiou": pgtiou}))


if __name__ == "__main__":
    main()
