namespace Aether.Cli;

/// <summary>The exit codes of the CLI contract.</summary>
internal static class ExitCodes
{
    /// <summary>Converged, or in sync.</summary>
    public const int Ok = 0;

    /// <summary>A kernel or runtime failure, or a conflict with objects that are not ours.</summary>
    public const int Failure = 1;

    /// <summary>Invalid input (file or arguments); nothing was touched.</summary>
    public const int InvalidInput = 2;

    /// <summary><c>diff</c>: changes are pending.</summary>
    public const int Pending = 3;
}
