# Build the Windows bundle and its per-user installer (not run here: no Windows machine).
#   powershell -ExecutionPolicy Bypass -File installer\windows\build_windows.ps1 [-Flavor cpu|cuda12]
# Needs Python 3.11+, and Inno Setup 6 (iscc on PATH; `choco install innosetup` on hosted runners).
param([string]$Flavor = "cpu")
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")
python -m venv .venv-bundle
$py = ".venv-bundle\Scripts\python.exe"
& $py -m pip install --upgrade pip
if ($Flavor -eq "cuda12") {
  # llama-cpp-python's published CUDA 12 wheels (no compiler needed on the build machine)
  & $py -m pip install llama-cpp-python --only-binary llama-cpp-python --extra-index-url https://abetlen.github.io/llama-cpp-python/whl/cu124
} else {
  & $py -m pip install llama-cpp-python
}
& $py -m pip install . "pyinstaller>=6.10,<7" pillow
$env:QT_QPA_PLATFORM = "offscreen"
& $py installer\make_icons.py build\icons
New-Item -ItemType Directory -Force build | Out-Null
Push-Location build
& "..\$py" -m PyInstaller --noconfirm --distpath ..\dist --workpath pyinstaller ..\installer\gazal-desktop.spec
Pop-Location
& dist\gazal-desktop\gazal-desktop.exe --self-test
if ($LASTEXITCODE -ne 0) { throw "self-test failed" }
$version = & $py -c "import gazal_desktop; print(gazal_desktop.__version__)"
iscc /DAppVersion=$version /DFlavor=$Flavor installer\windows\gazal-desktop.iss
