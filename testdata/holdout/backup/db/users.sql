-- MySQL dump 10.13  Distrib 8.0.36, for Linux (x86_64)
--
-- Host: 10.20.4.17    Database: portal_prod
-- ------------------------------------------------------
-- Server version	8.0.35

--
-- Table structure for table `users`
--

DROP TABLE IF EXISTS `users`;
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
) ENGINE=InnoDB AUTO_INCREMENT=4 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

--
-- Dumping data for table `users`
--

LOCK TABLES `users` WRITE;
/*!40000 ALTER TABLE `users` DISABLE KEYS */;
INSERT INTO `users` VALUES (1,'Amira Haddad','a.haddad@harborfreightco.net',NULL,'$2y$10$5eenwG9dFBbn125z5Q0KHuAPalnF.GvRVg4yuRtJ63ptbBOFud6xu',NULL,'2023-04-11 09:12:44','2023-04-11 09:12:44'),(2,'Tomasz Wojcik','t.wojcik@harborfreightco.net',NULL,'$2y$10$MOSR57En86CulBhV7WIUOe6HwuvYJ4nrl5SVpGyy/yPFkadfbHaKy',NULL,'2023-05-02 14:01:09','2023-05-02 14:01:09'),(3,'Priya Raman','p.raman@harborfreightco.net',NULL,'$2y$10$N.tADbCguq9OrMxIlpjKguVu.HtdHs05Ws.Blv.WAZ73Ltt7aO5Hm',NULL,'2023-08-19 11:45:30','2023-08-19 11:45:30');
/*!40000 ALTER TABLE `users` ENABLE KEYS */;
UNLOCK TABLES;

-- Dump completed on 2024-03-02  2:30:01
