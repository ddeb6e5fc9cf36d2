<#
.SYNOPSIS
    Collects the on-premises Exchange configuration `lab import` reads (docs/import.md).

.DESCRIPTION
    Run in the Exchange Management Shell (Exchange 2010-2019) with View-Only Organization
    Management rights. It only reads: Get-* cmdlets, piped to ConvertTo-Json -Depth 4, one file
    per cmdlet, in the folder given by -OutDir. Certificates are METADATA ONLY (thumbprint, names,
    dates, services): no private key and no certificate file is read or exported. Mailboxes and
    remote mailboxes: names and addresses only.

    Files written (UTF-8):
        manifest.json                        collection time, organization name, PowerShell version
        exchange-servers.json                Get-ExchangeServer
        accepted-domains.json                Get-AcceptedDomain
        remote-domains.json                  Get-RemoteDomain
        send-connectors.json                 Get-SendConnector
        receive-connectors.json              Get-ReceiveConnector (every server)
        receive-connector-permissions.json   Get-ReceiveConnector | Get-ADPermission (explicit grants)
        certificates.json                    Get-ExchangeCertificate per server (metadata only)
        mailboxes.json                       Get-Mailbox (Name, Alias, addresses, ServerName)
        remote-mailboxes.json                Get-RemoteMailbox (Name, Alias, addresses)

.EXAMPLE
    .\collect-exchange.ps1 -OutDir C:\lab-export
    # then, on the lab machine: lab import C:\lab-export -o topology.yaml
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
    # Enums as names where PowerShell can (7.x); 5.1 writes numbers and the importer decodes them.
    $params = @{ Depth = 4 }
    if ((Get-Command ConvertTo-Json).Parameters.ContainsKey('EnumsAsStrings')) { $params.EnumsAsStrings = $true }
    $json = if ($Objects.Count -eq 0) { '[]' } else { ConvertTo-Json -InputObject @($Objects) @params }
    # Out-File -Encoding utf8, not '>': Windows PowerShell's '>' writes UTF-16 (the importer reads both).
    $json | Out-File -FilePath (Join-Path $OutDir $Name) -Encoding utf8
    Write-Host ("{0,-36} {1} object(s)" -f $Name, $Objects.Count)
}

$org = Get-OrganizationConfig
Save-Json 'manifest.json' @([pscustomobject]@{
    Tool = 'collect-exchange.ps1'; ToolVersion = 1
    CollectedAt = (Get-Date).ToUniversalTime().ToString('o')
    OrganizationName = "$($org.Name)"; PSVersion = "$($PSVersionTable.PSVersion)"; ComputerName = $env:COMPUTERNAME
})

$servers = @(Get-ExchangeServer)
Save-Json 'exchange-servers.json' $servers
Save-Json 'accepted-domains.json' @(Get-AcceptedDomain)
Save-Json 'remote-domains.json' @(Get-RemoteDomain)
Save-Json 'send-connectors.json' @(Get-SendConnector)

$transport = @($servers | Where-Object { $_.IsHubTransportServer -or $_.IsFrontendTransportServer -or $_.IsMailboxServer })
$receive = @($transport | ForEach-Object { Get-ReceiveConnector -Server $_.Name })
Save-Json 'receive-connectors.json' $receive

# Explicit (not inherited) extended-rights grants, e.g. ms-Exch-SMTP-Accept-Any-Recipient for an
# anonymous relay connector. The importer drops the grants the PermissionGroups already make.
$grants = @($receive | Get-ADPermission | Where-Object { -not $_.IsInherited -and $_.ExtendedRights } |
    Select-Object @{n = 'Identity'; e = { "$($_.Identity)" } }, @{n = 'User'; e = { "$($_.User)" } },
                  @{n = 'ExtendedRights'; e = { @($_.ExtendedRights | ForEach-Object { "$_" }) } },
                  @{n = 'Deny'; e = { [bool]$_.Deny } }, @{n = 'IsInherited'; e = { [bool]$_.IsInherited } })
Save-Json 'receive-connector-permissions.json' $grants

# Certificates: metadata only. Never Export-ExchangeCertificate, never a private key.
$certs = @($transport | ForEach-Object {
    $server = $_.Name
    Get-ExchangeCertificate -Server $server | Select-Object @{n = 'Server'; e = { $server } },
        Thumbprint, Subject, Issuer,
        @{n = 'NotBefore'; e = { $_.NotBefore.ToUniversalTime().ToString('o') } },
        @{n = 'NotAfter'; e = { $_.NotAfter.ToUniversalTime().ToString('o') } },
        @{n = 'CertificateDomains'; e = { @($_.CertificateDomains | ForEach-Object { "$_" }) } },
        @{n = 'Services'; e = { "$($_.Services)" } }, IsSelfSigned,
        @{n = 'RootCAType'; e = { "$($_.RootCAType)" } }, @{n = 'Status'; e = { "$($_.Status)" } }, FriendlyName
})
Save-Json 'certificates.json' $certs

$addresses = @{n = 'EmailAddresses'; e = { @($_.EmailAddresses | ForEach-Object { "$_" }) } }
$primary = @{n = 'PrimarySmtpAddress'; e = { "$($_.PrimarySmtpAddress)" } }
Save-Json 'mailboxes.json' @(Get-Mailbox -ResultSize $MaxRecipients |
    Select-Object Name, Alias, $primary, $addresses, @{n = 'ServerName'; e = { "$($_.ServerName)" } })
Save-Json 'remote-mailboxes.json' @(Get-RemoteMailbox -ResultSize $MaxRecipients |
    Select-Object Name, Alias, $primary, $addresses, @{n = 'RemoteRoutingAddress'; e = { "$($_.RemoteRoutingAddress)" } })

Write-Host "Done. Copy $OutDir to the lab machine and run: lab import <folder> -o topology.yaml"
