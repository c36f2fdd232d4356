region      = "eu-north-1"
environment = "staging"

vpc_cidr        = "10.40.0.0/16"
private_subnets = ["10.40.1.0/24", "10.40.2.0/24"]

db_instance_class = "db.t4g.medium"
db_username       = "pinebrook_admin"
db_password       = "Nutm3g*2024"

cloudflare_zone_id = "a3f20bdc55999b2f6ce91687aa11b5f3"
api_token          = "7OGxvtqG4AoZH-S2fxKWLPhg-DifEB2Xe1FSaqJG"
