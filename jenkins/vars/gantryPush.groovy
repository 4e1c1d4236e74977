import dev.gantry.jenkins.Gantry
import dev.gantry.jenkins.Options

/**
 * gantryPush: pushes a local image, or copies a registry image by digest, to one or more references.
 *
 *   def pushed = gantryPush(image: built.refs[0], to: ['registry.example.com/shop/web:1.4.2'],
 *                           registryCredentialsId: 'registry')
 *   echo "pushed ${pushed.digest}"
 *
 * Returns the CLI's JSON result: digest, refs, sourceKind.
 */
def call(Map cfg = [:]) {
    Gantry gantry = new Gantry(this, 'gantryPush')
    gantry.validate('push', cfg, ['image', 'to'])
    Object to = cfg.to
    String firstTarget = to instanceof List ? (((List) to) ? ((List) to)[0]?.toString() : null) : to?.toString()
    Map outcome = gantry.run('push', cfg, [registryOf: firstTarget ?: cfg.image?.toString()])
    gantry.publish(cfg, [outcome.resultFile])
    return gantry.finish(outcome, cfg)
}

def call(Object other) {
    error('gantryPush: expects named options, e.g. gantryPush(image: ' +
        "'app:1.0', to: ['registry.example.com/app:1.0']); got ${Options.typeName(other)}")
}
