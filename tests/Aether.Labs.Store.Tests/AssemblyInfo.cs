// The store and its tests are Linux only (file modes, runuser, the postgres system user).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
