using System.CommandLine;
using Aether.WireGuard;

namespace Aether.Cli;

/// <summary><c>wg genkey|pubkey|genpsk</c>: keys, byte-compatible with wg(8).</summary>
internal static class WireGuardCommands
{
    /// <summary>wg(8) reads exactly this many characters of key text, then allows only whitespace.</summary>
    private const int KeyTextLength = 44;

    /// <summary>C's <c>isspace</c>, which wg(8) allows after the key.</summary>
    private static readonly System.Buffers.SearchValues<byte> Space = System.Buffers.SearchValues.Create(" \t\n\v\f\r"u8);

    public static Command Create()
    {
        var genkey = new Command("genkey", """
            Print a new private key (base64, as wg genkey does). With --out, write it to FILE instead, created with
            mode 0600 (never readable by others); a key printed to a file anyone can read gets wg's warning.

            Examples:
              aether wg genkey > private.key
              aether wg genkey --out private.key
              aether wg genkey | tee private.key | aether wg pubkey > public.key
            """);
        var genkeyOut = OutOption();
        genkey.Options.Add(genkeyOut);
        genkey.SetAction(parse => TopologyCommands.Guard(() => Task.FromResult(Emit(WireGuardSecretKey.GeneratePrivate().ToBase64(), parse.GetValue(genkeyOut)))));

        var genpsk = new Command("genpsk", """
            Print a new preshared key (32 random bytes, base64, as wg genpsk does). With --out, write it to FILE with
            mode 0600.

            Examples:
              aether wg genpsk > peer.psk
              aether wg genpsk --out peer.psk
            """);
        var genpskOut = OutOption();
        genpsk.Options.Add(genpskOut);
        genpsk.SetAction(parse => TopologyCommands.Guard(() => Task.FromResult(Emit(WireGuardSecretKey.GeneratePreshared().ToBase64(), parse.GetValue(genpskOut)))));

        var pubkey = new Command("pubkey", """
            Read a private key on standard input and print its public key, as wg pubkey does (the same input is
            accepted and refused: 44 base64 characters, then nothing but whitespace). Exit 2 on a malformed key.

            Example:
              aether wg genkey | aether wg pubkey
            """);
        pubkey.SetAction(_ => TopologyCommands.Guard(() => Task.FromResult(PublicKey())));

        return new Command("wg", """
            WireGuard keys, byte-compatible with wg(8), and the devices Aether runs.

            Examples:
              aether wg genkey | tee private.key | aether wg pubkey > public.key
              aether wg genpsk --out peer.psk
              aether wg show -o json
            """)
        {
            genkey,
            pubkey,
            genpsk,
            WireGuardShowCommand.Create(),
        };
    }

    private static Option<string?> OutOption() => new("--out")
    {
        Description = "Write the key to FILE (created or replaced with mode 0600) instead of standard output.",
        HelpName = "FILE",
    };

    internal static int Emit(string key, string? file)
    {
        if (file is null)
        {
            if (StandardOutputIsWorldAccessibleFile())
            {
                Console.Error.WriteLine("Warning: writing to world accessible file.");
                Console.Error.WriteLine("Consider setting the umask to 077 and trying again.");
            }

            Console.Out.Write(key + "\n");
            Console.Out.Flush();
            return ExitCodes.Ok;
        }

        WritePrivate(file, key + "\n");
        return ExitCodes.Ok;
    }

    /// <summary>Writes a new file with mode 0600 from the start (never a moment readable by others), then renames it
    /// over <paramref name="path"/>, so an existing file with a wider mode is replaced, not reused.</summary>
    private static void WritePrivate(string path, string text)
    {
        var full = Path.GetFullPath(path);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, "." + Path.GetFileName(full) + "." + Environment.ProcessId + ".tmp");
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("key files are written with Unix permissions");
        }

        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        try
        {
            using (var stream = new FileStream(temp, options))
            {
                stream.Write(System.Text.Encoding.ASCII.GetBytes(text));
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    private static int PublicKey()
    {
        using var stdin = Console.OpenStandardInput();
        Span<byte> text = stackalloc byte[KeyTextLength];
        var read = 0;
        while (read < KeyTextLength)
        {
            var n = stdin.Read(text[read..]);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        if (read != KeyTextLength)
        {
            Output.Fail("Key is not the correct length or format");
            return ExitCodes.InvalidInput;
        }

        Span<byte> rest = stackalloc byte[256];
        int more;
        while ((more = stdin.Read(rest)) > 0)
        {
            if (rest[..more].IndexOfAnyExcept(Space) >= 0)
            {
                Output.Fail("Trailing characters found after key");
                return ExitCodes.InvalidInput;
            }
        }

        Span<char> chars = stackalloc char[KeyTextLength];
        for (var i = 0; i < KeyTextLength; i++)
        {
            chars[i] = (char)text[i];
        }

        text.Clear();
        if (!WireGuardSecretKey.TryParse(new string(chars), out var key))
        {
            chars.Clear();
            Output.Fail("Key is not the correct length or format");
            return ExitCodes.InvalidInput;
        }

        chars.Clear();
        Console.Out.Write(key.GetPublicKey() + "\n");
        Console.Out.Flush();
        return ExitCodes.Ok;
    }

    /// <summary>wg genkey's check: standard output is a regular file that others may read or write.</summary>
    private static bool StandardOutputIsWorldAccessibleFile()
    {
        try
        {
            var target = File.ResolveLinkTarget("/proc/self/fd/1", returnFinalTarget: false)?.FullName;
            if (OperatingSystem.IsWindows() || target is null || !target.StartsWith('/') || target.StartsWith("/dev/", StringComparison.Ordinal) || !File.Exists(target))
            {
                return false;
            }

            const UnixFileMode others = UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
            return (File.GetUnixFileMode(target) & others) != UnixFileMode.None;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
