<?php
/**
 * The base configuration for WordPress
 *
 * The wp-config.php creation script uses this file during the installation.
 * You don't have to use the website, you can copy this file to "wp-config.php"
 * and fill in the values.
 *
 * This file contains the following configurations:
 *
 * * Database settings
 * * Secret keys
 * * Database table prefix
 * * ABSPATH
 *
 * @link https://developer.wordpress.org/advanced-administration/wordpress/wp-config/
 *
 * @package WordPress
 */

// ** Database settings - You can get this info from your web host ** //
/** The name of the database for WordPress */
define( 'DB_NAME', 'blog_wp' );

/** Database username */
define( 'DB_USER', 'blog_wp' );

/** Database password */
define( 'DB_PASSWORD', 'E.elSL7RDp7' );

/** Database hostname */
define( 'DB_HOST', 'localhost' );

/** Database charset to use in creating database tables. */
define( 'DB_CHARSET', 'utf8mb4' );

/** The database collate type. Don't change this if in doubt. */
define( 'DB_COLLATE', '' );

/**#@+
 * Authentication unique keys and salts.
 *
 * Change these to different unique phrases! You can generate these using
 * the {@link https://api.wordpress.org/secret-key/1.1/salt/ WordPress.org secret-key service}.
 *
 * You can change these at any point in time to invalidate all existing cookies.
 * This will force all users to have to log in again.
 *
 * @since 2.6.0
 */
define( 'AUTH_KEY',         '&*+18MmJSq?cKR<f;Lm?[sC{> <EJql| ziFq6h1iiU4%%:$Y@C$L1@$:zezS7@@' );
define( 'SECURE_AUTH_KEY',  '6)7:ZOFp:cve{]tRjmwbz+ZjvY5Pvwh%9-(BDm| BD4I!gz*<7-MGLClqY@}HtaX' );
define( 'LOGGED_IN_KEY',    '3nf/>3c67Ba&a^cU/8N/?`wIj,sR%U$tn`e.doTxUf2ReE@;TJw+iB>X@uh.6wvi' );
define( 'NONCE_KEY',        '_tF[76<$/ltkYg9E_krZ>2`E+Z;.)_jZnEi~XGAW2i1h(Wl^#==WO*LZJ$jF2WI!' );
define( 'AUTH_SALT',        'Woz58+el1lbT_e-?&7pX~4lw_@_ *:~/FKKPf=i~DaN2]q8 ![[>I).0f.vI1V=Y' );
define( 'SECURE_AUTH_SALT', 'z<t-x3gP~W8;^Wja%pe4:N.b&_W[yPND/70Bgq{Ll`n%-Se#Y4.h|)EL7oa4ubBv' );
define( 'LOGGED_IN_SALT',   's30FPvQ$cah+oLVluk`<l=NRONNA>4SkYI`?g+[_]9E(]$.?g~9%$XeexXva(GJI' );
define( 'NONCE_SALT',       'CC5o,mpn57E@UxhM{7xZ=q1Q<4yEx90AYEG7=OaN.)bh`bQ`V:on0O@`@.of|Nd;' );

/**#@-*/

/**
 * WordPress database table prefix.
 *
 * You can have multiple installations in one database if you give each
 * a unique prefix. Only numbers, letters, and underscores please!
 *
 * At the installation time, database tables are created with the specified prefix.
 * Changing this value after WordPress is installed will make your site think
 * it has not been installed.
 *
 * @link https://developer.wordpress.org/advanced-administration/wordpress/wp-config/#table-prefix
 */
$table_prefix = 'wp_';

/**
 * For developers: WordPress debugging mode.
 *
 * Change this to true to enable the display of notices during development.
 * It is strongly recommended that plugin and theme developers use WP_DEBUG
 * in their development environments.
 *
 * For information on other constants that can be used for debugging,
 * visit the documentation.
 *
 * @link https://developer.wordpress.org/advanced-administration/debug/debug-wordpress/
 */
define( 'WP_DEBUG', false );

/* Add any custom values between this line and the "stop editing" line. */
define( 'WP_MEMORY_LIMIT', '256M' );
define( 'DISALLOW_FILE_EDIT', true );
define( 'FS_METHOD', 'direct' );



/* That's all, stop editing! Happy publishing. */

/** Absolute path to the WordPress directory. */
if ( ! defined( 'ABSPATH' ) ) {
	define( 'ABSPATH', __DIR__ . '/' );
}

/** Sets up WordPress vars and includes files. */
require_once ABSPATH . 'wp-settings.php';
