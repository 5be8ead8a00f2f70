namespace Aether.Labs.Store.Tests.Infrastructure;

/// <summary>The <c>sqlite3</c> oracle on a file other than a target's default one.</summary>
public sealed class SqliteFile(string path)
{
    public async Task<IReadOnlyList<string?>> QueryColumnAsync(string sql)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("sqlite3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-bail", "-batch", "-list", "-noheader", path, sql })
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = System.Diagnostics.Process.Start(psi)!;
        var stdout = await process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode == 0 ? stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries) : throw new InvalidOperationException($"sqlite3 {path} \"{sql}\": {stderr.Trim()}");
    }
}
