// The cluster store and its tests are Linux only (runuser, the postgres system user).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
