using System.Diagnostics;

namespace Aether.Cli.Tests;

/// <summary><c>aether wg genkey|pubkey|genpsk</c> against wg(8) (wireguard-tools): the same bytes in, the same bytes
/// out.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class WireGuardCommandTests : SandboxTest
{
    [Fact]
    public async Task Genkey_prints_a_key_wg_accepts_and_pubkey_agrees_with_wg()
    {
        var genkey = await Cli.RunAsync("wg", "genkey");
        Assert.True(genkey.Code == 0, genkey.ToString());
        Assert.Matches("^[A-Za-z0-9+/]{43}=\n$", genkey.Stdout);
        Assert.Equal(string.Empty, genkey.Stderr);

        var ours = await Cli.RunWithInputAsync(genkey.Stdout, "wg", "pubkey");
        Assert.True(ours.Code == 0, ours.ToString());
        Assert.Equal(await WgAsync(genkey.Stdout, "pubkey"), ours.Stdout);
    }

    [Fact]
    public async Task Pubkey_of_keys_made_by_wg_is_byte_for_byte_what_wg_prints()
    {
        for (var i = 0; i < 10; i++)
        {
            var key = await WgAsync(null, "genkey");
            var ours = await Cli.RunWithInputAsync(key, "wg", "pubkey");
            Assert.True(ours.Code == 0, ours.ToString());
            Assert.Equal(await WgAsync(key, "pubkey"), ours.Stdout);
        }
    }

    [Theory]
    [InlineData("", "Key is not the correct length or format")]
    [InlineData("not a key\n", "Key is not the correct length or format")]
    [InlineData("YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWF=\n", "Key is not the correct length or format")]
    [InlineData("YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE= x\n", "Trailing characters found after key")]
    public async Task Pubkey_refuses_what_wg_refuses_with_wgs_words(string input, string message)
    {
        var ours = await Cli.RunWithInputAsync(input, "wg", "pubkey");
        Assert.True(ours.Code == 2, ours.ToString());
        Assert.Equal(string.Empty, ours.Stdout);
        Assert.Equal("aether: " + message, ours.Stderr.Trim());

        var wg = await RunWgAsync(input, "pubkey");
        Assert.NotEqual(0, wg.Code);
        Assert.Equal("wg: " + message, wg.Stderr.Trim());
    }

    [Fact]
    public async Task Pubkey_allows_trailing_whitespace_as_wg_does()
    {
        var key = await WgAsync(null, "genkey");
        var input = key.TrimEnd('\n') + " \t\r\n\n";
        var ours = await Cli.RunWithInputAsync(input, "wg", "pubkey");
        Assert.True(ours.Code == 0, ours.ToString());
        Assert.Equal(await WgAsync(input, "pubkey"), ours.Stdout);
    }

    [Fact]
    public async Task Genpsk_prints_32_random_bytes_in_base64()
    {
        var a = await Cli.RunAsync("wg", "genpsk");
        var b = await Cli.RunAsync("wg", "genpsk");
        Assert.True(a.Code == 0 && b.Code == 0, a + "\n" + b);
        Assert.Matches("^[A-Za-z0-9+/]{43}=\n$", a.Stdout);
        Assert.Equal(32, Convert.FromBase64String(a.Stdout.Trim()).Length);
        Assert.NotEqual(a.Stdout, b.Stdout);

        // wg takes it as a preshared key: its pubkey command parses any 32-byte key.
        Assert.Equal(0, (await RunWgAsync(a.Stdout, "pubkey")).Code);
    }

    [Theory]
    [InlineData("genkey")]
    [InlineData("genpsk")]
    public async Task Out_writes_the_key_with_mode_0600_even_over_a_world_readable_file(string command)
    {
        using var dir = new TempDirectory(Box.Token);
        var path = Path.Combine(dir.Path, "key");
        await File.WriteAllTextAsync(path, "old\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var result = await Cli.RunAsync("wg", command, "--out", path);
        Assert.True(result.Code == 0, result.ToString());
        Assert.Equal(string.Empty, result.Stdout);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        var text = await File.ReadAllTextAsync(path);
        Assert.Matches("^[A-Za-z0-9+/]{43}=\n$", text);
        Assert.Equal(0, (await RunWgAsync(text, "pubkey")).Code);
        Assert.Single(Directory.GetFiles(dir.Path)); // no temporary file left behind
    }

    [Fact]
    public async Task Genkey_into_a_world_readable_file_gets_wgs_warning()
    {
        using var dir = new TempDirectory(Box.Token);
        var path = Path.Combine(dir.Path, "key");
        var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("umask 022; \"$0\" wg genkey > \"$1\"");
        psi.ArgumentList.Add(Cli.BinaryPath);
        psi.ArgumentList.Add(path);
        using var sh = Process.Start(psi)!;
        var stderr = await sh.StandardError.ReadToEndAsync();
        await sh.WaitForExitAsync();
        Assert.Equal(0, sh.ExitCode);
        Assert.Equal("Warning: writing to world accessible file.\nConsider setting the umask to 077 and trying again.\n", stderr);
        Assert.Matches("^[A-Za-z0-9+/]{43}=\n$", await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task Wg_commands_have_help_with_an_example()
    {
        foreach (var command in new[] { "wg", "wg genkey", "wg pubkey", "wg genpsk" })
        {
            var help = await Cli.RunAsync([.. command.Split(' '), "--help"]);
            Assert.True(help.Code == 0, command + ": " + help);
            Assert.Contains("  aether " + command, help.Stdout, StringComparison.Ordinal);
            Assert.Contains("Example", help.Stdout, StringComparison.Ordinal);
        }
    }

    private static async Task<string> WgAsync(string? stdin, string command)
    {
        var result = await RunWgAsync(stdin, command);
        return result.Code == 0 ? result.Stdout : throw new InvalidOperationException($"wg {command}: {result.Stderr}");
    }

    private static async Task<Cli.Result> RunWgAsync(string? stdin, string command)
    {
        var psi = new ProcessStartInfo("wg") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(command);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        await process.WaitForExitAsync();
        return new Cli.Result(process.ExitCode, await stdout, await stderr);
    }
}
