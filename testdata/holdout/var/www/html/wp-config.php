<?php
/**
 * The base configuration for WordPress
 *
 * The wp-config.php creation script uses this file during the installation.
 * You don't have to use the web site, you can copy this file to "wp-config.php"
 * and fill in the values.
 *
 * @link https://wordpress.org/documentation/article/editing-wp-config-php/
 *
 * @package WordPress
 */

// ** Database settings - You can get this info from your web host ** //
/** The name of the database for WordPress */
define( 'DB_NAME', 'wp_blog' );

/** Database username */
define( 'DB_USER', 'wp_blog' );

/** Database password */
define( 'DB_PASSWORD', 'MistyWombat@24' );

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
 * @since 2.6.0
 */
define( 'AUTH_KEY',         'Y9wp},u@RNU3UTM^h;.zx%s?1^06Y0+s)!bu)@bD,x>.,!vj9+#8#`FtC1xVhR?>' );
define( 'SECURE_AUTH_KEY',  'Ylih/SQ:WX(g+_%y?Psp1MnLhRPu`lPA5q`21E~CJ#ZBY:HN~w3u;wHkQE] j8}+' );
define( 'LOGGED_IN_KEY',    '=7>IdI_sqyYXue*D:Pfcp(i%)6}pe&A7WLFgx+4x?fLPX7TQ-e|2L1{yj>rNl6%#' );
define( 'NONCE_KEY',        'tW=^-T}%p!6i~{@I~_I=AU3B6PZ4UW_]eqlqr`+$ex.7h)caU*#aNxB=;nJ<KV3E' );
define( 'AUTH_SALT',        'R  #XL2#U7pMKn/oyP<5j~j d,s7Lx1r6k920o+:CDi4rhZ8BeQ~F|Rnw<YR)lnm' );
define( 'SECURE_AUTH_SALT', '<5G9M*LW#RT1%snHdIGc<MeheyB.D1Eq6t,OiI<<dt/eX,+JW@2jAV]%B[BJKh81' );
define( 'LOGGED_IN_SALT',   's0xDVaR4}r7Q8e0xdip;`JVkH)Zdj-<W]nqvw~v|Nx]p)nC9n`h`hOZTW8oN(dYP' );
define( 'NONCE_SALT',       'ce(QWABC+ZsC(:BB%T!2aVofbjW,}/`pQ[#dnD/YcDgD`xY6_ )E8-dKb8SJQN5R' );

/**#@-*/

$table_prefix = 'wp_';

define( 'WP_DEBUG', false );
define( 'FS_METHOD', 'direct' );

/* That's all, stop editing! Happy publishing. */

/** Absolute path to the WordPress directory. */
if ( ! defined( 'ABSPATH' ) ) {
	define( 'ABSPATH', __DIR__ . '/' );
}

/** Sets up WordPress vars and included files. */
require_once ABSPATH . 'wp-settings.php';
