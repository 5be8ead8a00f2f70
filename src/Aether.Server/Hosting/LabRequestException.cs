using Aether.Hub;
using Aether.Labs;
using Microsoft.AspNetCore.Http;

namespace Aether.Server;

/// <summary>A lab request the daemon refused or could not carry out: the HTTP status it answers with, a title, the one
/// line for people (<see cref="Exception.Message"/>) and, for machines, the lab file's errors with their positions, the
/// bad request fields, or the step that failed.</summary>
internal sealed class LabRequestException : Exception
{
    private LabRequestException(int status, string title, string message, Exception? inner = null)
        : base(message, inner)
    {
        Status = status;
        Title = title;
    }

    /// <summary>The HTTP status.</summary>
    public int Status { get; }

    /// <summary>The problem's title.</summary>
    public string Title { get; }

    /// <summary>The lab named, when one was.</summary>
    public string? Lab { get; init; }

    /// <summary>Every problem of an invalid lab file, in file order.</summary>
    public IReadOnlyList<LabError> LabErrors { get; init; } = [];

    /// <summary>The bad fields of an invalid request.</summary>
    public IReadOnlyList<HubFieldError> FieldErrors { get; init; } = [];

    /// <summary>What failed (<c>deploy</c>, <c>destroy</c>, <c>store</c>).</summary>
    public string? Step { get; init; }

    /// <summary>A lab file with errors: nothing was touched.</summary>
    public static LabRequestException InvalidLab(IReadOnlyList<LabError> errors) => new(
        StatusCodes.Status400BadRequest,
        "Invalid lab",
        $"invalid lab, nothing was touched: {errors.Count} problem{(errors.Count == 1 ? "" : "s")}, the first {errors[0]}")
    {
        LabErrors = errors,
    };

    /// <summary>A request with bad fields: nothing was touched.</summary>
    public static LabRequestException Invalid(IReadOnlyList<HubFieldError> errors, string? lab = null) => new(
        StatusCodes.Status400BadRequest,
        "Invalid request",
        "invalid request, nothing was touched: " + string.Join("; ", errors.Select(e => e.Field + ": " + e.Message)))
    {
        FieldErrors = errors,
        Lab = lab,
    };

    /// <summary>No such lab, link or node.</summary>
    public static LabRequestException NotFound(string lab, string message) =>
        new(StatusCodes.Status404NotFound, "Not found", message) { Lab = lab };

    /// <summary>The request conflicts with how the lab is kept (a runner that would not stop).</summary>
    public static LabRequestException Conflict(string lab, string message) =>
        new(StatusCodes.Status409Conflict, "Conflict", message) { Lab = lab };

    /// <summary>The daemon is stopping.</summary>
    public static LabRequestException Stopping() =>
        new(StatusCodes.Status503ServiceUnavailable, "Stopping", "the daemon is stopping");

    /// <summary>A step failed (the kernel's, the store's message in it).</summary>
    public static LabRequestException Failed(string lab, string step, string message, Exception? inner = null) =>
        new(StatusCodes.Status500InternalServerError, "A step failed", message, inner) { Lab = lab, Step = step };
}
