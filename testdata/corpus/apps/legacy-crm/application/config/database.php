<?php
defined('BASEPATH') OR exit('No direct script access allowed');

/*
| -------------------------------------------------------------------
| DATABASE CONNECTIVITY SETTINGS
| -------------------------------------------------------------------
| This file will contain the settings needed to access your database.
|
| For complete instructions please consult the 'Database Connection'
| page of the User Guide.
*/
$active_group = 'default';
$query_builder = TRUE;

$db['default'] = array(
	'dsn'	=> '',
	'hostname' => '10.10.5.11',
	'username' => 'crm',
	'password' => 'Lantern3850+flamingo',
	'database' => 'crm_live',
	'dbdriver' => 'mysqli',
	'dbprefix' => '',
	'pconnect' => FALSE,
	'db_debug' => (ENVIRONMENT !== 'production'),
	'cache_on' => FALSE,
	'cachedir' => '',
	'char_set' => 'utf8',
	'dbcollat' => 'utf8_general_ci',
	'swap_pre' => '',
	'encrypt' => FALSE,
	'compress' => FALSE,
	'stricton' => FALSE,
	'failover' => array(),
	'save_queries' => TRUE
);

$db['reporting'] = array(
	'dsn'	=> '',
	'hostname' => '10.10.5.12',
	'username' => 'crm_report',
	'password' => 'Pepper-noodle-juniper-pumpkin-18',
	'database' => 'crm_live',
	'dbdriver' => 'mysqli',
	'char_set' => 'utf8',
	'dbcollat' => 'utf8_general_ci'
);
