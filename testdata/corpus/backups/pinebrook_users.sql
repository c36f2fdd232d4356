-- MySQL dump 10.13  Distrib 8.0.36, for Linux (x86_64)
--
-- Host: 10.10.2.15    Database: pinebrook
-- ------------------------------------------------------
-- Server version	8.0.36-0ubuntu0.22.04.1

/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;
/*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */;
/*!50503 SET NAMES utf8mb4 */;
/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;
/*!40103 SET TIME_ZONE='+00:00' */;
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;
/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;
--
-- Table structure for table `users`
--

DROP TABLE IF EXISTS `users`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!50503 SET character_set_client = utf8mb4 */;
CREATE TABLE `users` (
  `id` bigint unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(255) COLLATE utf8mb4_unicode_ci NOT NULL,
  `email` varchar(255) COLLATE utf8mb4_unicode_ci NOT NULL,
  `email_verified_at` timestamp NULL DEFAULT NULL,
  `password` varchar(255) COLLATE utf8mb4_unicode_ci NOT NULL,
  `remember_token` varchar(100) COLLATE utf8mb4_unicode_ci DEFAULT NULL,
  `created_at` timestamp NULL DEFAULT NULL,
  `updated_at` timestamp NULL DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `users_email_unique` (`email`)
) ENGINE=InnoDB AUTO_INCREMENT=11 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `users`
--

LOCK TABLES `users` WRITE;
/*!40000 ALTER TABLE `users` DISABLE KEYS */;
INSERT INTO `users` VALUES (1,'Ingvild Berg','ingvild.berg@gmail.com','2023-02-04 09:13:21','$2y$10$TWSgaAZTBR2hP9SlZwAF6O8eQG7g8r9mINnpkZW/hOv3R1YspScja',NULL,'2023-02-04 09:13:21','2023-02-04 09:13:21');
INSERT INTO `users` VALUES (2,'Tor Eriksen','tor.eriksen@hotmail.com','2023-03-05 10:16:22','$2y$10$CG3lgVSZTlv8wdHAtpXPhusaYiOgKX16cuezfq2OGpQbjCvf4xOQi',NULL,'2023-03-05 10:16:22','2023-03-05 10:16:22');
INSERT INTO `users` VALUES (3,'Sofie Dahl','sofie.dahl@online.no','2023-04-06 11:19:23','$2y$10$.fQSwbS9X7qCti..rAEz8uEV7JD0wXCvcoF58J1SkiLkD6JGXl3N6',NULL,'2023-04-06 11:19:23','2023-04-06 11:19:23');
INSERT INTO `users` VALUES (4,'Jonas Moe','jonas@moe-consulting.no','2023-05-07 12:22:24','$2y$10$rJoeoyWh1YsOr00XrAbV8uDZnBFy9nqAyTmuBPKH6T.RiivlkgcOq',NULL,'2023-05-07 12:22:24','2023-05-07 12:22:24');
INSERT INTO `users` VALUES (5,'Nora Haugen','nora.haugen@gmail.com','2023-06-08 13:25:25','$2y$12$nVyynCrdz/HhJXvSnmwgEuzWHS2nMOzE8ncHQYdZr3Z9O1ZiviSOa',NULL,'2023-06-08 13:25:25','2023-06-08 13:25:25');
INSERT INTO `users` VALUES (6,'Emil Strand','emil.strand@icloud.com','2023-07-09 14:28:26','$2y$12$Ci9.DkQePAAywxGX9LkW4u1srfJVft9TTzufs7oBEwk.ezbDk0MT6',NULL,'2023-07-09 14:28:26','2023-07-09 14:28:26');
INSERT INTO `users` VALUES (7,'Ida Solberg','ida.solberg@yahoo.com','2023-08-10 15:31:27','$2y$12$D8rYHMGWfUcYngV6FejRkOgn1IWR/SoC3vL2rRAv7DJ09EpqFET.e',NULL,'2023-08-10 15:31:27','2023-08-10 15:31:27');
INSERT INTO `users` VALUES (8,'Magnus Lie','magnus.lie@lark.no','2023-09-11 16:34:28','$2y$12$1GuWT25GQyERoZGdT9haoOQFOYljSjxZbcKlkxl3X0qucts6zBZeG',NULL,'2023-09-11 16:34:28','2023-09-11 16:34:28');
INSERT INTO `users` VALUES (9,'Sara Bakken','sara.bakken@gmail.com','2023-10-12 17:37:29','$argon2id$v=19$m=65536,t=3,p=4$oirWY3YRXkxQmXSbNIJXjg$/ubY5z7lEs2leGDL1QQtkjAhJUfTecGTushI9X2TAxE',NULL,'2023-10-12 17:37:29','2023-10-12 17:37:29');
INSERT INTO `users` VALUES (10,'Henrik Vik','henrik.vik@outlook.com','2023-11-13 18:40:30','$argon2id$v=19$m=65536,t=3,p=4$VNfd9FcGxyCq0CCYFRKPxA$FXd+3E2QH4Tlv2GGDFQSF5frxoCj2UCq0cNdhVuo/jc',NULL,'2023-11-13 18:40:30','2023-11-13 18:40:30');
/*!40000 ALTER TABLE `users` ENABLE KEYS */;
UNLOCK TABLES;
/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;

/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;
/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;
/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;
/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */;
/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */;
/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;

-- Dump completed on 2024-04-12  3:15:22
