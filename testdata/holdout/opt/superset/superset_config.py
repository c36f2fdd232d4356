import os

from celery.schedules import crontab

ROW_LIMIT = 5000
SUPERSET_WEBSERVER_PORT = 8088

# Your App secret key will be used for securely signing the session cookie
# and encrypting sensitive information on the database
# Make sure you are changing this key for your deployment with a strong key.
# Alternatively you can set it with `SUPERSET_SECRET_KEY` environment variable.
# You MUST set this for production environments or the server will refuse
# to start and you will see an error in the logs accordingly.
SECRET_KEY = "J8cUguV+na72RBabh4QH2+lhbtUbGyOOM7pydqnua7pdW7ZLONHZxogo"

# The SQLAlchemy connection string to your database backend
SQLALCHEMY_DATABASE_URI = "postgresql+psycopg2://superset:Tamarind!Glow5@pg-bi.internal:5432/superset"

# Flask-WTF flag for CSRF
WTF_CSRF_ENABLED = True
WTF_CSRF_EXEMPT_LIST = []
WTF_CSRF_TIME_LIMIT = 60 * 60 * 24 * 365

MAPBOX_API_KEY = os.environ.get("MAPBOX_API_KEY", "")


class CeleryConfig:
    broker_url = "redis://redis-bi.internal:6379/0"
    imports = ("superset.sql_lab", "superset.tasks.scheduler")
    result_backend = "redis://redis-bi.internal:6379/0"
    worker_prefetch_multiplier = 1
    task_acks_late = False
    beat_schedule = {
        "reports.scheduler": {
            "task": "reports.scheduler",
            "schedule": crontab(minute="*", hour="*"),
        },
    }


CELERY_CONFIG = CeleryConfig

SMTP_HOST = "smtp.northwind.io"
SMTP_STARTTLS = True
SMTP_SSL = False
SMTP_USER = "superset"
SMTP_PORT = 587
SMTP_PASSWORD = "w9E!rT4#yU7i"
SMTP_MAIL_FROM = "bi-reports@northwind.io"
