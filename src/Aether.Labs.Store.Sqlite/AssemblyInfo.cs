// Labs are Linux only (file modes of the SQLite file and its directory).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
