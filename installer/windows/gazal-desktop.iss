; Inno Setup script: per-user installer for the one-folder bundle (no administrator rights).
;   iscc /DAppVersion=0.1.0 /DFlavor=cpu installer\windows\gazal-desktop.iss
; Expects dist\gazal-desktop\ from PyInstaller and build\icons\app-icon.ico (installer\make_icons.py).
; Flavor names the llama-cpp-python build inside (cpu, cuda12); it is part of the file name.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef Flavor
  #define Flavor "cpu"
#endif

[Setup]
AppId={{6C1F6B52-8E0A-4A4B-9B1E-0B7C2F1A9D31}
AppName=Gazal Desktop
AppVersion={#AppVersion}
AppPublisher=Gazal Desktop contributors
DefaultDirName={localappdata}\Programs\Gazal Desktop
DefaultGroupName=Gazal Desktop
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=gazal-desktop-{#AppVersion}-windows-x64-{#Flavor}-setup
SetupIconFile=..\..\build\icons\app-icon.ico
UninstallDisplayIcon={app}\gazal-desktop.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; The learner's library lives in %APPDATA%\Gazal and is never touched by the uninstaller.

[Messages]
WelcomeLabel2=This will install [name/ver] on your computer.%n%nGazal Desktop is an educational tool for clinical reasoning. It is NOT a medical device: never use it for real patients, for emergencies or with identifiable patient data.

[Files]
Source: "..\..\dist\gazal-desktop\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\Gazal Desktop"; Filename: "{app}\gazal-desktop.exe"
Name: "{userdesktop}\Gazal Desktop"; Filename: "{app}\gazal-desktop.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked

[Run]
Filename: "{app}\gazal-desktop.exe"; Description: "Launch Gazal Desktop"; Flags: nowait postinstall skipifsilent
