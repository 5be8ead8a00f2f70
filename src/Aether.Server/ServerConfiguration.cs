using Microsoft.Extensions.Configuration;

namespace Aether.Server;

/// <summary>
/// Where <c>aether serve</c> takes its <see cref="ServerOptions"/> from, each layer over the one before: the optional
/// JSON file <see cref="DefaultFile"/> (or <c>--config FILE</c>), environment variables prefixed <c>AETHER_</c>
/// (<c>AETHER_SOCKETPATH</c>, <c>AETHER_HUBRESYNC</c>, <c>AETHER_LABRUNTIME__RECONCILEEVERY</c>), then the flags given
/// on the command line. Keys are <see cref="ServerOptions"/>' property names, case-insensitive.
/// </summary>
public static class ServerConfiguration
{
    /// <summary>The daemon's configuration file, read when it exists.</summary>
    public const string DefaultFile = "/etc/aether/aether.json";

    /// <summary>The prefix of the environment variables that configure the daemon.</summary>
    public const string EnvironmentPrefix = "AETHER_";

    /// <summary>The layers: <paramref name="file"/> (optional unless given), the environment, then
    /// <paramref name="flags"/> (the settings given on the command line, by key).</summary>
    /// <param name="file">A JSON file; null for <see cref="DefaultFile"/>, which may be missing.</param>
    /// <param name="flags">What the command line gave, by <see cref="ServerOptions"/> property name.</param>
    /// <exception cref="FileNotFoundException"><paramref name="file"/> was given and does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not valid JSON.</exception>
    public static IConfigurationRoot Build(string? file, IReadOnlyDictionary<string, string?> flags)
    {
        ArgumentNullException.ThrowIfNull(flags);
        var path = Path.GetFullPath(file ?? DefaultFile);
        if (file is not null && !File.Exists(path))
        {
            throw new FileNotFoundException($"--config {file}: no such file", path);
        }

        try
        {
            return new ConfigurationBuilder()
                .AddJsonFile(path, optional: file is null, reloadOnChange: false)
                .AddEnvironmentVariables(EnvironmentPrefix)
                .AddInMemoryCollection(flags)
                .Build();
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"{path}: not a JSON object of settings: {e.Message}", e);
        }
    }

    /// <summary>The options <paramref name="configuration"/> gives, over their defaults.</summary>
    /// <exception cref="InvalidOperationException">A value is not of its setting's type (the setting named).</exception>
    public static ServerOptions Bind(IConfiguration configuration)
    {
        var options = new ServerOptions();
        configuration.Bind(options);
        return options;
    }
}
