import dev.gantry.jenkins.Gantry
import dev.gantry.jenkins.Options

/**
 * gantryBuild: builds an image with the bundled `gantry build` (buildah or buildx), tags from the git context.
 *
 *   def built = gantryBuild(image: 'registry.example.com/shop/web', context: '.', tag: ['rc'])
 *   echo "built ${built.refs[0]}"
 *
 * Options: the camelCase of `gantry build`'s flags, plus the library's own (see gantryBuild.txt).
 * Returns the CLI's JSON result: image, tags, refs, digest (with push: true), builder, labels, durationMs.
 */
def call(Map cfg = [:]) {
    Gantry gantry = new Gantry(this, 'gantryBuild')
    gantry.validate('build', cfg, ['image'])
    Map outcome = gantry.run('build', cfg, [env: gantry.gitEnv()])
    gantry.publish(cfg, [outcome.resultFile])
    return gantry.finish(outcome, cfg)
}

def call(Object other) {
    error("gantryBuild: expects named options, e.g. gantryBuild(image: 'registry.example.com/app'); got ${Options.typeName(other)}")
}
