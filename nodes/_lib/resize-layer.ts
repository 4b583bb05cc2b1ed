/**
 * A `Resizing` layer (Keras class name, so saved models stay loadable by Keras) with a correct
 * output shape: the stock TF.js 4.22 layer drops the batch dimension from its computed shape,
 * which breaks any layer after it in a model. Registering this class replaces the stock one for
 * deserialisation in this process.
 */
import * as tf from '@tensorflow/tfjs';

interface ResizeArgs {
  height: number;
  width: number;
  interpolation?: 'bilinear' | 'nearest';
  name?: string;
  trainable?: boolean;
}

export class ResizeLayer extends tf.layers.Layer {
  static className = 'Resizing';
  readonly height: number;
  readonly width: number;
  readonly interpolation: 'bilinear' | 'nearest';

  constructor(args: ResizeArgs) {
    super(args);
    this.height = args.height;
    this.width = args.width;
    this.interpolation = args.interpolation === 'nearest' ? 'nearest' : 'bilinear';
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [s[0], this.height, this.width, s[3]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const size: [number, number] = [this.height, this.width];
      return this.interpolation === 'nearest' ? tf.image.resizeNearestNeighbor(x, size) : tf.image.resizeBilinear(x, size);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), height: this.height, width: this.width, interpolation: this.interpolation, cropToAspectRatio: false };
  }
}
tf.serialization.registerClass(ResizeLayer);
