using Aether.Hub;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Aether.Server.Api;

/// <summary>
/// Errors as RFC 9457 problem details (<c>application/problem+json</c>): <c>title</c> says what kind, <c>detail</c>
/// the one line for people, and extensions for machines: <c>errors</c> (every bad field, as <c>{field, message}</c>),
/// <c>step</c> (what failed), <c>networkId</c>, <c>lab</c>.
/// </summary>
internal static class Problems
{
    /// <summary>The problem for a hub refusal or failure.</summary>
    public static IResult From(HubException e)
    {
        var (status, title) = e.Kind switch
        {
            HubErrorKind.Invalid => (StatusCodes.Status400BadRequest, "Invalid request"),
            HubErrorKind.NotFound => (StatusCodes.Status404NotFound, e.Missing switch
            {
                HubMissing.Attachment => "No such attachment",
                HubMissing.Peer => "No such peer",
                _ => "No such network",
            }),
            HubErrorKind.Conflict => (StatusCodes.Status409Conflict, "Conflict"),
            _ => (StatusCodes.Status500InternalServerError, "A step failed"),
        };
        var problem = new ProblemDetails { Status = status, Title = title, Detail = e.Message };
        if (e.Errors.Count > 0)
        {
            problem.Extensions["errors"] = e.Errors;
        }

        if (e.Step is not null)
        {
            problem.Extensions["step"] = e.Step;
        }

        if (e.NetworkId is not null)
        {
            problem.Extensions["networkId"] = e.NetworkId;
        }

        return TypedResults.Problem(problem);
    }

    /// <summary>The problem for a lab request refused or failed: <c>errors</c> holds a lab file's every problem as
    /// <c>{file, line, column, message}</c> (or a request's bad fields as <c>{field, message}</c>), <c>lab</c> the
    /// lab, <c>step</c> what failed.</summary>
    public static IResult From(LabRequestException e)
    {
        var problem = new ProblemDetails { Status = e.Status, Title = e.Title, Detail = e.Message };
        if (e.LabErrors.Count > 0)
        {
            problem.Extensions["errors"] = e.LabErrors;
        }
        else if (e.FieldErrors.Count > 0)
        {
            problem.Extensions["errors"] = e.FieldErrors;
        }

        if (e.Lab is not null)
        {
            problem.Extensions["lab"] = e.Lab;
        }

        if (e.Step is not null)
        {
            problem.Extensions["step"] = e.Step;
        }

        return TypedResults.Problem(problem);
    }

    /// <summary>A 400 naming one field.</summary>
    public static IResult Invalid(string field, string message) => From(HubException.Invalid([new HubFieldError(field, message)]));

    /// <summary>A 401 for a request over TCP without the right token.</summary>
    public static IResult Unauthorized(string detail) =>
        TypedResults.Problem(new ProblemDetails { Status = StatusCodes.Status401Unauthorized, Title = "Unauthorized", Detail = detail });
}
