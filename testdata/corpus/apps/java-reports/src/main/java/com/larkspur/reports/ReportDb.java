package com.larkspur.reports;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

public final class ReportDb {

    private static final String URL = "jdbc:postgresql://pg-reports.lark.internal:5432/reports";
    private static final String dbUser = "reports_app";
    private static final String dbPassword = "quartz-bramble-wild-Brave-48";

    private ReportDb() {
    }

    public static Connection open() throws SQLException {
        return DriverManager.getConnection(URL, dbUser, dbPassword);
    }
}
