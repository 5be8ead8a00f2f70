namespace Aether.Labs.Store;

/// <summary>The SQLite file of either store: created with its final mode, so it is never readable by others.</summary>
internal static class StoreFile
{
    private const UnixFileMode FileMode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode DirectoryMode0700 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Creates the directory (0700) and an empty file (0600) when missing; narrows a wider file mode.</summary>
    /// <exception cref="LabStoreException">Either could not be created.</exception>
    public static void Prepare(string path)
    {
        try
        {
            var directory = Path.GetDirectoryName(path)!;
            if (!Directory.Exists(directory))
            {
                Directory.CreateDirectory(directory, DirectoryMode0700);
            }

            try
            {
                using var created = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = FileMode0600 });
            }
            catch (IOException) when (File.Exists(path))
            {
                if ((File.GetUnixFileMode(path) & ~FileMode0600) != UnixFileMode.None)
                {
                    File.SetUnixFileMode(path, FileMode0600);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LabStoreException(path, "create the database file", ex.Message, null, ex);
        }
    }
}
