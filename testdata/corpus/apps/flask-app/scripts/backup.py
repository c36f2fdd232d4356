#!/usr/bin/env python3
"""Nightly dump of the inventory database to the NAS."""
import datetime
import subprocess

import paramiko

host = "nas01.lark.internal"
username = "backup"
password = "Canyon_Umbrella15"


def main():
    stamp = datetime.date.today().isoformat()
    dump = f"/tmp/inventory-{stamp}.sql.gz"
    subprocess.run(f"pg_dump -h pg01.lark.internal -U inventory inventory | gzip > {dump}", shell=True, check=True)
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(host, username=username, password=password)
    sftp = client.open_sftp()
    sftp.put(dump, f"/volume1/backups/inventory/{stamp}.sql.gz")
    sftp.close()
    client.close()


if __name__ == "__main__":
    main()
