using Aether.Cni;

// aether-cni: one CNI command per process, as the spec drives it: the command and the container in the environment,
// the network configuration on stdin, the result (or the error object) on stdout, the exit code 0 or 1.
var stdout = Console.OpenStandardOutput();
byte[] stdin = [];
var version = NetworkConfig.SupportedVersions[^1];
try
{
    var env = CniEnvironment.Read(Environment.GetEnvironmentVariable);
    using (var input = Console.OpenStandardInput())
    using (var buffer = new MemoryStream())
    {
        // VERSION may come with nothing on stdin; a runtime always closes it.
        await input.CopyToAsync(buffer).ConfigureAwait(false);
        if (buffer.Length > NetworkConfig.MaxBytes)
        {
            throw new CniException(CniCodes.IoFailure, $"the network configuration on stdin is larger than {NetworkConfig.MaxBytes} bytes");
        }

        stdin = buffer.ToArray();
    }

    version = Plugin.VersionOf(stdin) is { } given && NetworkConfig.SupportedVersions.Contains(given, StringComparer.Ordinal) ? given : version;
    using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
    var output = await Plugin.RunAsync(env, stdin, cts.Token).ConfigureAwait(false);
    await stdout.WriteAsync(output).ConfigureAwait(false);
    return 0;
}
catch (CniException e)
{
    await stdout.WriteAsync(CniOutput.Error(version, e)).ConfigureAwait(false);
    return 1;
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException)
{
    await stdout.WriteAsync(CniOutput.Error(version, new CniException(CniCodes.IoFailure, e.Message))).ConfigureAwait(false);
    return 1;
}
