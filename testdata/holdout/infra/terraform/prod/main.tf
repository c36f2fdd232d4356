terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.31"
    }
    datadog = {
      source  = "DataDog/datadog"
      version = "~> 3.34"
    }
  }

  backend "s3" {
    bucket = "nw-tfstate-prod"
    key    = "core/terraform.tfstate"
    region = "eu-central-1"
  }
}

provider "aws" {
  region     = "eu-central-1"
  access_key = "AKIAUDYXUZZACQIVGIFC"
  secret_key = "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"
}

provider "datadog" {
  api_key = "340e3a45e7e59d03d3e4cd55dd0d2dc9"
  app_key = "7358b050addd7f0c9b7157d6b525075d3b7d01a2"
  api_url = "https://api.datadoghq.eu/"
}

resource "aws_db_subnet_group" "orders" {
  name       = "orders-prod"
  subnet_ids = module.vpc.private_subnets
}

resource "aws_db_instance" "orders" {
  identifier              = "orders-prod"
  engine                  = "postgres"
  engine_version          = "15.4"
  instance_class          = "db.r6g.large"
  allocated_storage       = 200
  storage_encrypted       = true
  db_subnet_group_name    = aws_db_subnet_group.orders.name
  username                = "orders_admin"
  password                = "Fjord&Glacier2022"
  backup_retention_period = 14
  deletion_protection     = true
  skip_final_snapshot     = false
}
