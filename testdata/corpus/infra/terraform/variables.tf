variable "region" {
  description = "AWS region"
  type        = string
  default     = "eu-north-1"
}

variable "db_username" {
  description = "Master user for the RDS instance"
  type        = string
  default     = "pinebrook_admin"
}

variable "db_password" {
  description = "Master password for the RDS instance"
  type        = string
  sensitive   = true
}

variable "api_token" {
  description = "Cloudflare API token with Zone:DNS:Edit"
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.api_token) == 40
    error_message = "The Cloudflare API token must be 40 characters."
  }
}
