// The cluster store serves the agent and the daemon, which are Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
