using Microsoft.Extensions.Options;

namespace Conveyor.Configuration;

// The checks the options' attributes ([Range], [TimeSpanRange]) state, generated at build time by the options
// validation source generator: no reflection over the options types, so trimming and Native AOT keep them working.
// What attributes cannot say lives in each options type's own validator (JobServerOptionsValidator, ...).

/// <summary>The attributes of <see cref="ConveyorOptions"/> (the nested Retention and Metrics have their own).</summary>
[OptionsValidator]
internal sealed partial class ConveyorOptionsAttributesValidator : IValidateOptions<ConveyorOptions>;

/// <summary>The attributes of <see cref="ConveyorRetentionOptions"/>.</summary>
[OptionsValidator]
internal sealed partial class ConveyorRetentionOptionsAttributesValidator : IValidateOptions<ConveyorRetentionOptions>;

/// <summary>The attributes of <see cref="ConveyorMetricsOptions"/>.</summary>
[OptionsValidator]
internal sealed partial class ConveyorMetricsOptionsAttributesValidator : IValidateOptions<ConveyorMetricsOptions>;

/// <summary>The attributes of <see cref="JobServerOptions"/>.</summary>
[OptionsValidator]
internal sealed partial class JobServerOptionsAttributesValidator : IValidateOptions<JobServerOptions>;

/// <summary>The attributes of <see cref="FireAndForgetOptions"/>.</summary>
[OptionsValidator]
internal sealed partial class FireAndForgetOptionsAttributesValidator : IValidateOptions<FireAndForgetOptions>;
