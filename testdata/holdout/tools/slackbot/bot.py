"""On-call helper bot: /oncall, /runbook and Jira ticket previews."""
import logging
import os

import requests
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

logging.basicConfig(level=logging.INFO)

SLACK_BOT_TOKEN = os.environ.get("SLACK_BOT_TOKEN", "xoxb-24660266451-3858555501528-SGkvGauk06YG8bIk82d2s7KR")
SLACK_SIGNING_SECRET = os.environ.get("SLACK_SIGNING_SECRET", "27cbe450cf6128f20a6604d75d454ea1")
SLACK_APP_TOKEN = os.environ["SLACK_APP_TOKEN"]

JIRA_URL = "https://northwind.atlassian.net"
JIRA_USER = "oncall-bot@northwind.io"
JIRA_API_TOKEN = "ATATT3xFfGF0IFTIKB11hX5h3Zna8TLNS9N2XTi3IPHNEYpSXKF1bDQf5q2jaPnrHdF9qHIHKyJmAjKc4_t6YoMHJCe3cVAKwyhbtlF9k12--GFMnaoZJpNrv-6sVw1Ye3D63YjPegMSZENE9zgpmGBU85rJH_5XwhEZ2s_wXw3qHou2cmr3Y0=08087B07"

app = App(token=SLACK_BOT_TOKEN, signing_secret=SLACK_SIGNING_SECRET)


@app.command("/oncall")
def oncall(ack, respond):
    ack()
    r = requests.get(f"{JIRA_URL}/rest/api/3/search", params={"jql": "project = OPS AND status = Open"},
                     auth=(JIRA_USER, JIRA_API_TOKEN), timeout=10)
    respond(f"{r.json()['total']} open OPS tickets")


if __name__ == "__main__":
    SocketModeHandler(app, SLACK_APP_TOKEN).start()
