import os

from .base import *  # noqa: F401,F403

DEBUG = False
SECRET_KEY = "!c7zv_e&_wbrltqo#sg%!fo_pr(8sqc!j%#e74r6)t)_!cre3n"
ALLOWED_HOSTS = ["app.northwind.io", "admin.northwind.io"]
CSRF_TRUSTED_ORIGINS = ["https://app.northwind.io", "https://admin.northwind.io"]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "northwind",
        "USER": "northwind",
        "PASSWORD": "QuietCompass$49",
        "HOST": "pg-app.internal",
        "PORT": "5432",
        "CONN_MAX_AGE": 60,
    }
}

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "smtp.mailgun.org"
EMAIL_HOST_USER = "postmaster@mg.northwind.io"
EMAIL_HOST_PASSWORD = "Prairie-Vole.1698@"
EMAIL_PORT = 587
EMAIL_USE_TLS = True

DEFAULT_FILE_STORAGE = "storages.backends.s3boto3.S3Boto3Storage"
AWS_ACCESS_KEY_ID = "AKIAKABKXTPM4XMCCZ74"
AWS_SECRET_ACCESS_KEY = "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"
AWS_STORAGE_BUCKET_NAME = "northwind-media"
AWS_S3_REGION_NAME = "eu-west-1"

SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
