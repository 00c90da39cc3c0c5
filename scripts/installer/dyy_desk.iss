; Inno Setup 6 script for DYY Desk: per-user install, no administrator rights needed.
; Built by scripts/build_installer.py, which passes the values below from the package metadata:
;   iscc /DAppVersion=0.1.0 /DSourceDir=dist\dyy-desk /DOutputDir=dist /DIconFile=build\icons\dyy_desk.ico dyy_desk.iss
;
; Upgrades: the AppId below never changes, so a newer setup installs over the old one in place (same
; folder, same shortcuts, one entry in 应用和功能). The agents' data is NOT in the install folder: it
; lives in the per-user data folder from platformdirs (%LOCALAPPDATA%\DYY\DYYDesk, settings and logs
; beside it); neither an upgrade nor the uninstaller touches it. Only {app} is ever deleted.

#ifndef AppVersion
  #error "Pass /DAppVersion=<package version> (scripts/build_installer.py does)"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\dyy-desk"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif
#ifndef IconFile
  #define IconFile "..\..\build\icons\dyy_desk.ico"
#endif

#define AppName "DYY Desk"
#define AppExe "dyy-desk.exe"

[Setup]
; Fixed for ever: this GUID is what makes a new version an upgrade of the installed one.
AppId={{8C3B6F2E-5A41-4D7B-9E0C-2F6A1D9B7C34}
AppName={#AppName}
AppVerName={#AppName} {#AppVersion}
AppVersion={#AppVersion}
VersionInfoVersion={#AppVersion}
AppPublisher=DYY
AppComments=代运营客服工作台
; Per-user install under %LOCALAPPDATA%\Programs: no UAC prompt, works on locked-down agency PCs.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=
DefaultDirName={localappdata}\Programs\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
DisableDirPage=auto
UsePreviousAppDir=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
; Close a running DYY Desk before replacing its files, and start it again afterwards.
CloseApplications=yes
RestartApplications=yes
SetupIconFile={#IconFile}
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
OutputDir={#OutputDir}
OutputBaseFilename=dyy-desk-{#AppVersion}-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern

[Languages]
#if FileExists(AddBackslash(CompilerPath) + "Languages\ChineseSimplified.isl")
Name: "zh_CN"; MessagesFile: "compiler:Languages\ChineseSimplified.isl"
#endif
Name: "en"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"

[InstallDelete]
; An upgrade replaces the whole bundled runtime, so no library of the previous version is left behind.
; (The install folder holds only the program; the data folder is elsewhere, see above.)
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"; Comment: "代运营客服工作台"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Only the program folder. The per-user data folder (tickets, backups, settings) is kept on purpose:
; reinstalling finds the workspace again. Delete %LOCALAPPDATA%\DYY\DYYDesk by hand to remove it.
Type: filesandordirs; Name: "{app}"
