using System.Globalization;

namespace Conveyor.Configuration;

/// <summary>
/// Each value of a dictionary setting lies between two whole numbers, both included (a queue's weight). It only says so
/// to the messages about a value that cannot be read as a number (SettingDescriptions), which find it by its name; the
/// options' own validator checks the values (a <see cref="System.ComponentModel.DataAnnotations.ValidationAttribute"/>
/// here would be checked against the dictionary itself).
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class SettingValuesRangeAttribute(int minimum, int maximum) : Attribute
{
    public string Minimum { get; } = minimum.ToString(CultureInfo.InvariantCulture);

    public string Maximum { get; } = maximum.ToString(CultureInfo.InvariantCulture);
}
