using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Binding for Conveyor's options and those of the store packages.</summary>
public static class ConveyorOptionsBuilderExtensions
{
    /// <summary>
    /// Binds the options from <paramref name="sectionPath"/> of the application's <see cref="IConfiguration"/> when one
    /// is registered (any host), and leaves the defaults otherwise (a bare <see cref="ServiceCollection"/> in a test or
    /// a console tool), unlike <c>BindConfiguration</c>, which requires one.
    /// </summary>
    public static OptionsBuilder<TOptions> BindFromConfigurationIfPresent<TOptions>(this OptionsBuilder<TOptions> builder, string sectionPath)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<IConfigureOptions<TOptions>>(sp => new ConfigureNamedOptions<TOptions>(builder.Name, options =>
            sp.GetService<IConfiguration>()?.GetSection(sectionPath).Bind(options)));
        return builder;
    }
}
