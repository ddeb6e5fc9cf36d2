<#
.SYNOPSIS
    Collects the Exchange Online configuration `lab import` reads (docs/import.md).

.DESCRIPTION
    Run in PowerShell with the ExchangeOnlineManagement module (V3) after Connect-ExchangeOnline,
    with a role that may read connectors (View-Only Configuration is enough). It only reads; write
    the files into the same folder as collect-exchange.ps1 for a hybrid organization.

    Files written (UTF-8):
        exo-manifest.json           collection time, PowerShell and module versions
        exo-accepted-domains.json   Get-AcceptedDomain
        inbound-connectors.json     Get-InboundConnector
        outbound-connectors.json    Get-OutboundConnector
        exo-mailboxes.json          Get-EXOMailbox (Name, Alias, addresses)
        exo-mail-users.json         Get-MailUser (Name, Alias, addresses, ExternalEmailAddress)

.EXAMPLE
    Connect-ExchangeOnline -UserPrincipalName admin@contoso.onmicrosoft.com
    .\collect-exo.ps1 -OutDir C:\lab-export
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$OutDir,
    [int]$MaxRecipients = 5000
)
$ErrorActionPreference = 'Stop'
New-Item -ItemType Directory -Force -Path $OutDir | Out-Null

function Save-Json {
    param([string]$Name, [object[]]$Objects)
    $params = @{ Depth = 4 }
    if ((Get-Command ConvertTo-Json).Parameters.ContainsKey('EnumsAsStrings')) { $params.EnumsAsStrings = $true }
    $json = if ($Objects.Count -eq 0) { '[]' } else { ConvertTo-Json -InputObject @($Objects) @params }
    $json | Out-File -FilePath (Join-Path $OutDir $Name) -Encoding utf8
    Write-Host ("{0,-28} {1} object(s)" -f $Name, $Objects.Count)
}

$module = Get-Module ExchangeOnlineManagement
Save-Json 'exo-manifest.json' @([pscustomobject]@{
    Tool = 'collect-exo.ps1'; ToolVersion = 1
    CollectedAt = (Get-Date).ToUniversalTime().ToString('o')
    PSVersion = "$($PSVersionTable.PSVersion)"; ModuleVersion = "$($module.Version)"
})

Save-Json 'exo-accepted-domains.json' @(Get-AcceptedDomain)
Save-Json 'inbound-connectors.json' @(Get-InboundConnector)
Save-Json 'outbound-connectors.json' @(Get-OutboundConnector)

$addresses = @{n = 'EmailAddresses'; e = { @($_.EmailAddresses | ForEach-Object { "$_" }) } }
$primary = @{n = 'PrimarySmtpAddress'; e = { "$($_.PrimarySmtpAddress)" } }
Save-Json 'exo-mailboxes.json' @(Get-EXOMailbox -ResultSize $MaxRecipients -Properties EmailAddresses |
    Select-Object Name, Alias, $primary, $addresses)
Save-Json 'exo-mail-users.json' @(Get-MailUser -ResultSize $MaxRecipients |
    Select-Object Name, Alias, $primary, $addresses, @{n = 'ExternalEmailAddress'; e = { "$($_.ExternalEmailAddress)" } })

Write-Host "Done. Run on the lab machine: lab import <folder> -o topology.yaml"
