#!/usr/bin/env python3
"""Sync LDAP users into the inventory app."""
import getpass
import os
import sys

import ldap3

LDAP_URL = os.getenv("LDAP_URL", "ldaps://ldap.lark.internal")
BIND_DN = os.getenv("LDAP_BIND_DN", "cn=inventory,ou=services,dc=lark,dc=internal")


def bind_password():
    password = os.getenv("LDAP_BIND_PASSWORD")
    if password is None:
        password = getpass.getpass("LDAP bind password: ")
    if password == "":
        sys.exit("empty password, refusing to bind anonymously")
    return password


def main():
    server = ldap3.Server(LDAP_URL, use_ssl=True)
    conn = ldap3.Connection(server, BIND_DN, bind_password(), auto_bind=True)
    conn.search("ou=people,dc=lark,dc=internal", "(objectClass=inetOrgPerson)", attributes=["uid", "mail"])
    for entry in conn.entries:
        print(entry.uid, entry.mail)


if __name__ == "__main__":
    main()
