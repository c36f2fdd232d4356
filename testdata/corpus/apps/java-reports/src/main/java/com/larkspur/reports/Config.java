package com.larkspur.reports;

public final class Config {

    private Config() {
    }

    public static String dbUrl() {
        return System.getenv().getOrDefault("REPORTS_DB_URL", "jdbc:postgresql://localhost:5432/reports");
    }

    public static String dbUser() {
        return System.getenv("REPORTS_DB_USER");
    }

    public static char[] dbPassword() {
        String password = System.getenv("REPORTS_DB_PASSWORD");
        if (password == null || password.isEmpty()) {
            throw new IllegalStateException("REPORTS_DB_PASSWORD is not set");
        }
        return password.toCharArray();
    }
}
