namespace Aether.Server.Health;

/// <summary>Ready when the lab store answers (lists its labs), within 5 s.</summary>
internal sealed class LabStoreHealthCheck(LabHost labs) : TimedHealthCheck
{
    protected override string Subject => "the lab store";

    protected override async Task<string> AskAsync(CancellationToken cancellationToken) =>
        $"{(await labs.Store.ListLabsAsync(cancellationToken).ConfigureAwait(false)).Count} lab(s)";
}
