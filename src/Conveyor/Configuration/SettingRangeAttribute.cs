using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace Conveyor.Configuration;

/// <summary>
/// A setting must lie between two bounds, both included: whole numbers (<c>[SettingRange(1, 10_000)]</c>) or time
/// spans (<c>[SettingRange("00:00:01", "01:00:00")]</c>). In place of <c>[Range]</c>: its time-span form converts the
/// bounds through a TypeConverter found by reflection (not safe to trim or compile ahead of time), and the options
/// validation source generator replaces it with a copy that drops <see cref="ValidationAttribute.ErrorMessage"/>.
/// The message formats as RangeAttribute's: {0} the member, {1} the minimum, {2} the maximum. Compiled into each
/// package that uses it (a linked source file).
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field | AttributeTargets.Parameter)]
internal sealed class SettingRangeAttribute : ValidationAttribute
{
    private readonly Func<object, bool> _contains;

    public SettingRangeAttribute(int minimum, int maximum)
        : base("The field {0} must be between {1} and {2}.")
    {
        Minimum = minimum.ToString(CultureInfo.InvariantCulture);
        Maximum = maximum.ToString(CultureInfo.InvariantCulture);
        _contains = value => value is int number && number >= minimum && number <= maximum;
    }

    public SettingRangeAttribute(string minimum, string maximum)
        : base("The field {0} must be between {1} and {2}.")
    {
        Minimum = minimum;
        Maximum = maximum;
        var min = TimeSpan.Parse(minimum, CultureInfo.InvariantCulture);
        var max = TimeSpan.Parse(maximum, CultureInfo.InvariantCulture);
        _contains = value => value is TimeSpan span && span >= min && span <= max;
    }

    public string Minimum { get; }

    public string Maximum { get; }

    /// <summary>Null passes (as with RangeAttribute): an unset optional setting means its default.</summary>
    public override bool IsValid(object? value) => value is null || _contains(value);

    /// <summary>
    /// The message, and the value that was given, so that a typo in a long setting is seen at once. No member names:
    /// the options validation writes them before the message ("Concurrency: Conveyor:Server:Concurrency must be …"),
    /// and the message names the setting already.
    /// </summary>
    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext) =>
        IsValid(value)
            ? ValidationResult.Success
            : new ValidationResult($"{FormatErrorMessage(validationContext.DisplayName).TrimEnd('.')}; it is {string.Format(CultureInfo.InvariantCulture, "{0}", value)}.");

    public override string FormatErrorMessage(string name) =>
        string.Format(CultureInfo.CurrentCulture, ErrorMessageString, name, Minimum, Maximum);
}
