-- MySQL dump 10.13  Distrib 5.5.62, for Linux (x86_64)
--
-- Host: 10.10.5.11    Database: crm_live
-- ------------------------------------------------------
-- Server version	5.5.62-0ubuntu0.14.04.1

/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;
/*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */;
/*!40101 SET NAMES utf8 */;
/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;
/*!40103 SET TIME_ZONE='+00:00' */;
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;
/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;
--
-- Table structure for table `members`
--

DROP TABLE IF EXISTS `members`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8 */;
CREATE TABLE `members` (
  `member_id` int(11) NOT NULL AUTO_INCREMENT,
  `username` varchar(32) NOT NULL,
  `password` varchar(32) NOT NULL,
  `email` varchar(128) NOT NULL,
  `full_name` varchar(128) DEFAULT NULL,
  `created` datetime NOT NULL,
  `active` tinyint(1) NOT NULL DEFAULT '1',
  PRIMARY KEY (`member_id`),
  UNIQUE KEY `username` (`username`)
) ENGINE=MyISAM AUTO_INCREMENT=108 DEFAULT CHARSET=utf8;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `members`
--

LOCK TABLES `members` WRITE;
/*!40000 ALTER TABLE `members` DISABLE KEYS */;
INSERT INTO `members` VALUES (101,'hansen_k','Umbrella_Yarrow20','k.hansen@online.no','Kjell Hansen','2011-06-14 19:22:41',1);
INSERT INTO `members` VALUES (102,'liv.a','lupin-meadow-Basil-silver-49','liv.andersen@gmail.com','Liv Andersen','2011-07-14 19:22:42',1);
INSERT INTO `members` VALUES (103,'bjornar77','Puff1n+2025','bjornar77@hotmail.com','Bjørnar Lund','2011-08-14 19:22:43',1);
INSERT INTO `members` VALUES (104,'tuva_s','Biscuit740_kettle','tuva.s@yahoo.no','Tuva Sæther','2011-09-14 19:22:44',1);
INSERT INTO `members` VALUES (105,'geir.o','Hazel*2019','geir.olsen@lark.no','Geir Olsen','2011-10-14 19:22:45',1);
INSERT INTO `members` VALUES (106,'marte_k','Bramble874*penguin','marte.k@gmail.com','Marte Kristiansen','2011-11-14 19:22:46',1);
INSERT INTO `members` VALUES (107,'petter.n','Jasper-juniper-ember-kettle-66','petter.nilsen@online.no','Petter Nilsen','2011-12-14 19:22:47',1);
/*!40000 ALTER TABLE `members` ENABLE KEYS */;
UNLOCK TABLES;
/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;

/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;
/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;
/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;
/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */;
/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */;
/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;

-- Dump completed on 2019-08-30 23:40:11
