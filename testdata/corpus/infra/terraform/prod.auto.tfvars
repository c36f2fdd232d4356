environment = "prod"
db_password = "Tangerine*Golden46"

datadog_api_key = "ee33238129fc30c58e8ab552d95d088b"
datadog_app_key = "526946a50fd4c689dbf8bd7e60fb0af36d0f866e"

alert_emails = ["ops@pinebrook.shop"]
