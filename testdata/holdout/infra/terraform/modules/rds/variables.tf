variable "identifier" {
  type        = string
  description = "RDS instance identifier"
}

variable "master_username" {
  type    = string
  default = "dbadmin"
}

variable "master_password" {
  type        = string
  description = "Master password. Pass via TF_VAR_master_password or leave null to let RDS manage it in Secrets Manager."
  sensitive   = true
  default     = null
}

resource "random_password" "app" {
  length           = 32
  special          = true
  override_special = "!#$%&*()-_=+[]{}<>:?"
}

output "app_password" {
  value     = random_password.app.result
  sensitive = true
}
