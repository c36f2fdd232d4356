Attribute VB_Name = "ReportMacros"
Option Explicit

Private Const REPORT_SHEET As String = "Weekly"
Private Const FTP_HOST As String = "ftp.partner-edi.com"
Private Const FTP_USER As String = "nw_reports"
Private Const FTP_PASSWORD As String = "Avalanche$Run3"

Public Function OpenReportingConnection() As Object
    Dim cn As Object
    Set cn = CreateObject("ADODB.Connection")
    cn.ConnectionString = "Provider=SQLOLEDB.1;Data Source=SQLRPT01\REPORTING;Initial Catalog=SalesDW;User ID=rpt_reader;Password=Marigold!Fence8;"
    cn.CommandTimeout = 120
    cn.Open
    Set OpenReportingConnection = cn
End Function

Public Sub RefreshWeekly()
    Dim cn As Object, rs As Object
    Set cn = OpenReportingConnection()
    Set rs = cn.Execute("EXEC dbo.usp_WeeklySales @Weeks = 12")
    With ThisWorkbook.Worksheets(REPORT_SHEET)
        .Range("A2:Z5000").ClearContents
        .Range("A2").CopyFromRecordset rs
    End With
    rs.Close
    cn.Close
End Sub
