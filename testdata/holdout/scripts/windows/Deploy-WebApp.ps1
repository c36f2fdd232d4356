<#
.SYNOPSIS
    Deploys the Orders web app to the IIS farm.
.DESCRIPTION
    Pulls the build artifact from blob storage and pushes it to each web node.
#>
[CmdletBinding()]
param(
    [string]$Environment = "Production",
    [string[]]$Servers = @("WEB-PRD-01", "WEB-PRD-02"),
    [string]$Build = "latest"
)

$ErrorActionPreference = "Stop"
Import-Module Az.Storage

$deployUser = "NORTHWIND\svc_deploy"
$deployPass = ConvertTo-SecureString "Osprey-Nest-2018" -AsPlainText -Force
$cred = New-Object System.Management.Automation.PSCredential($deployUser, $deployPass)

$storageAccount = "nwordersartifacts"
$storageKey = "kMAFKgLqPG4T5x7PcZ6euLDv2COIalEvZh0cjPGy9KZP/pwFqIMK+UGkHJOoZhgqKm73TsIoUfaKnQOI+HkI/A=="
$ctx = New-AzStorageContext -StorageAccountName $storageAccount -StorageAccountKey $storageKey

$zip = Join-Path $env:TEMP "orders-$Build.zip"
Get-AzStorageBlobContent -Container "builds" -Blob "orders/$Build.zip" -Destination $zip -Context $ctx -Force | Out-Null

foreach ($server in $Servers) {
    Write-Host "Deploying to $server ($Environment)"
    $session = New-PSSession -ComputerName $server -Credential $cred
    Copy-Item -Path $zip -Destination "C:\deploy\orders.zip" -ToSession $session
    Invoke-Command -Session $session -ScriptBlock {
        Stop-WebAppPool -Name "Orders"
        Expand-Archive -Path "C:\deploy\orders.zip" -DestinationPath "D:\sites\orders" -Force
        Start-WebAppPool -Name "Orders"
    }
    Remove-PSSession $session
}
