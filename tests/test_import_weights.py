"""Importing the authors' SD2Net/STD2Net weights (nbs/18_import_weights): files in the authors' key layout, built here
without their code, land tensor by tensor where the name map says; wrong, broken and unsafe files are DataErrors."""
import argparse, pickle
import numpy as np
import pytest, torch
from irstd_nb.core import DataError
from irstd_nb.import_weights import IGNORED, authors_to_ours, import_weights, key_map, ours_to_authors
from irstd_nb.sd2net import SD2Net
from irstd_nb.std2net import STD2Net

# The authors' state-dict names and shapes (facts, not code): `SDecNet().state_dict()` of greekinRoma/STD2Net @ 42ca53b2
# (models/STDecNet/SDecNet/segmentation.py, InceptionPool of IRSTD_HC_Platform @ 193afd5c), printed by running their code.
# Their trainer (IRSTD_HC_Platform train.py) saves these under `model.` (its Net wrapper) in {'epoch', 'state_dict', 'total_loss'}.
SDECNET = """
inc.rebnconvin.conv_s1.weight 16x1x3x3
inc.rebnconvin.conv_s1.bias 16
inc.rebnconvin.bn_s1.weight 16
inc.rebnconvin.bn_s1.bias 16
inc.rebnconvin.bn_s1.running_mean 16
inc.rebnconvin.bn_s1.running_var 16
inc.rebnconvin.bn_s1.num_batches_tracked -
inc.rebnconv1.conv_s1.weight 8x16x3x3
inc.rebnconv1.conv_s1.bias 8
inc.rebnconv1.bn_s1.weight 8
inc.rebnconv1.bn_s1.bias 8
inc.rebnconv1.bn_s1.running_mean 8
inc.rebnconv1.bn_s1.running_var 8
inc.rebnconv1.bn_s1.num_batches_tracked -
inc.rebnconv2.conv_s1.weight 8x8x3x3
inc.rebnconv2.conv_s1.bias 8
inc.rebnconv2.bn_s1.weight 8
inc.rebnconv2.bn_s1.bias 8
inc.rebnconv2.bn_s1.running_mean 8
inc.rebnconv2.bn_s1.running_var 8
inc.rebnconv2.bn_s1.num_batches_tracked -
inc.rebnconv3.conv_s1.weight 8x8x3x3
inc.rebnconv3.conv_s1.bias 8
inc.rebnconv3.bn_s1.weight 8
inc.rebnconv3.bn_s1.bias 8
inc.rebnconv3.bn_s1.running_mean 8
inc.rebnconv3.bn_s1.running_var 8
inc.rebnconv3.bn_s1.num_batches_tracked -
inc.rebnconv4.conv_s1.weight 8x8x3x3
inc.rebnconv4.conv_s1.bias 8
inc.rebnconv4.bn_s1.weight 8
inc.rebnconv4.bn_s1.bias 8
inc.rebnconv4.bn_s1.running_mean 8
inc.rebnconv4.bn_s1.running_var 8
inc.rebnconv4.bn_s1.num_batches_tracked -
inc.rebnconv5.conv_s1.weight 8x8x3x3
inc.rebnconv5.conv_s1.bias 8
inc.rebnconv5.bn_s1.weight 8
inc.rebnconv5.bn_s1.bias 8
inc.rebnconv5.bn_s1.running_mean 8
inc.rebnconv5.bn_s1.running_var 8
inc.rebnconv5.bn_s1.num_batches_tracked -
inc.rebnconv6.conv_s1.weight 8x8x3x3
inc.rebnconv6.conv_s1.bias 8
inc.rebnconv6.bn_s1.weight 8
inc.rebnconv6.bn_s1.bias 8
inc.rebnconv6.bn_s1.running_mean 8
inc.rebnconv6.bn_s1.running_var 8
inc.rebnconv6.bn_s1.num_batches_tracked -
inc.rebnconv7.conv_s1.weight 8x8x3x3
inc.rebnconv7.conv_s1.bias 8
inc.rebnconv7.bn_s1.weight 8
inc.rebnconv7.bn_s1.bias 8
inc.rebnconv7.bn_s1.running_mean 8
inc.rebnconv7.bn_s1.running_var 8
inc.rebnconv7.bn_s1.num_batches_tracked -
inc.rebnconv6d.conv_s1.weight 8x16x3x3
inc.rebnconv6d.conv_s1.bias 8
inc.rebnconv6d.bn_s1.weight 8
inc.rebnconv6d.bn_s1.bias 8
inc.rebnconv6d.bn_s1.running_mean 8
inc.rebnconv6d.bn_s1.running_var 8
inc.rebnconv6d.bn_s1.num_batches_tracked -
inc.rebnconv5d.conv_s1.weight 8x16x3x3
inc.rebnconv5d.conv_s1.bias 8
inc.rebnconv5d.bn_s1.weight 8
inc.rebnconv5d.bn_s1.bias 8
inc.rebnconv5d.bn_s1.running_mean 8
inc.rebnconv5d.bn_s1.running_var 8
inc.rebnconv5d.bn_s1.num_batches_tracked -
inc.rebnconv4d.conv_s1.weight 8x16x3x3
inc.rebnconv4d.conv_s1.bias 8
inc.rebnconv4d.bn_s1.weight 8
inc.rebnconv4d.bn_s1.bias 8
inc.rebnconv4d.bn_s1.running_mean 8
inc.rebnconv4d.bn_s1.running_var 8
inc.rebnconv4d.bn_s1.num_batches_tracked -
inc.rebnconv3d.conv_s1.weight 8x16x3x3
inc.rebnconv3d.conv_s1.bias 8
inc.rebnconv3d.bn_s1.weight 8
inc.rebnconv3d.bn_s1.bias 8
inc.rebnconv3d.bn_s1.running_mean 8
inc.rebnconv3d.bn_s1.running_var 8
inc.rebnconv3d.bn_s1.num_batches_tracked -
inc.rebnconv2d.conv_s1.weight 8x16x3x3
inc.rebnconv2d.conv_s1.bias 8
inc.rebnconv2d.bn_s1.weight 8
inc.rebnconv2d.bn_s1.bias 8
inc.rebnconv2d.bn_s1.running_mean 8
inc.rebnconv2d.bn_s1.running_var 8
inc.rebnconv2d.bn_s1.num_batches_tracked -
inc.rebnconv1d.conv_s1.weight 16x16x3x3
inc.rebnconv1d.conv_s1.bias 16
inc.rebnconv1d.bn_s1.weight 16
inc.rebnconv1d.bn_s1.bias 16
inc.rebnconv1d.bn_s1.running_mean 16
inc.rebnconv1d.bn_s1.running_var 16
inc.rebnconv1d.bn_s1.num_batches_tracked -
down1.sdecd.origin_conv.1.weight 16x16x1x1
down1.sdecd.trans_conv.weight 16x16x1x1
down1.sdecd.trans_conv.bias 16
encoder1.0.conv1.weight 16x16x3x3
encoder1.0.conv1.bias 16
encoder1.0.bn1.weight 16
encoder1.0.bn1.bias 16
encoder1.0.bn1.running_mean 16
encoder1.0.bn1.running_var 16
encoder1.0.bn1.num_batches_tracked -
encoder1.0.conv2.weight 16x16x3x3
encoder1.0.conv2.bias 16
encoder1.0.bn2.weight 16
encoder1.0.bn2.bias 16
encoder1.0.bn2.running_mean 16
encoder1.0.bn2.running_var 16
encoder1.0.bn2.num_batches_tracked -
down2.sdecd.origin_conv.1.weight 16x16x1x1
down2.sdecd.trans_conv.weight 16x16x1x1
down2.sdecd.trans_conv.bias 16
encoder2.0.conv1.weight 32x16x3x3
encoder2.0.conv1.bias 32
encoder2.0.bn1.weight 32
encoder2.0.bn1.bias 32
encoder2.0.bn1.running_mean 32
encoder2.0.bn1.running_var 32
encoder2.0.bn1.num_batches_tracked -
encoder2.0.conv2.weight 32x32x3x3
encoder2.0.conv2.bias 32
encoder2.0.bn2.weight 32
encoder2.0.bn2.bias 32
encoder2.0.bn2.running_mean 32
encoder2.0.bn2.running_var 32
encoder2.0.bn2.num_batches_tracked -
encoder2.0.shortcut.0.weight 32x16x1x1
encoder2.0.shortcut.0.bias 32
encoder2.0.shortcut.1.weight 32
encoder2.0.shortcut.1.bias 32
encoder2.0.shortcut.1.running_mean 32
encoder2.0.shortcut.1.running_var 32
encoder2.0.shortcut.1.num_batches_tracked -
down3.sdecd.origin_conv.1.weight 32x32x1x1
down3.sdecd.trans_conv.weight 32x32x1x1
down3.sdecd.trans_conv.bias 32
encoder3.0.conv1.weight 64x32x3x3
encoder3.0.conv1.bias 64
encoder3.0.bn1.weight 64
encoder3.0.bn1.bias 64
encoder3.0.bn1.running_mean 64
encoder3.0.bn1.running_var 64
encoder3.0.bn1.num_batches_tracked -
encoder3.0.conv2.weight 64x64x3x3
encoder3.0.conv2.bias 64
encoder3.0.bn2.weight 64
encoder3.0.bn2.bias 64
encoder3.0.bn2.running_mean 64
encoder3.0.bn2.running_var 64
encoder3.0.bn2.num_batches_tracked -
encoder3.0.shortcut.0.weight 64x32x1x1
encoder3.0.shortcut.0.bias 64
encoder3.0.shortcut.1.weight 64
encoder3.0.shortcut.1.bias 64
encoder3.0.shortcut.1.running_mean 64
encoder3.0.shortcut.1.running_var 64
encoder3.0.shortcut.1.num_batches_tracked -
down4.sdecd.origin_conv.1.weight 64x64x1x1
down4.sdecd.trans_conv.weight 64x64x1x1
down4.sdecd.trans_conv.bias 64
encoder4.0.conv1.weight 64x64x3x3
encoder4.0.conv1.bias 64
encoder4.0.bn1.weight 64
encoder4.0.bn1.bias 64
encoder4.0.bn1.running_mean 64
encoder4.0.bn1.running_var 64
encoder4.0.bn1.num_batches_tracked -
encoder4.0.conv2.weight 64x64x3x3
encoder4.0.conv2.bias 64
encoder4.0.bn2.weight 64
encoder4.0.bn2.bias 64
encoder4.0.bn2.running_mean 64
encoder4.0.bn2.running_var 64
encoder4.0.bn2.num_batches_tracked -
contras1.out_conv.0.weight 8x8x1x1
contras1.out_conv.0.bias 8
contras1.out_conv.1.weight 8
contras1.out_conv.1.bias 8
contras1.out_conv.1.running_mean 8
contras1.out_conv.1.running_var 8
contras1.out_conv.1.num_batches_tracked -
contras1.out_conv.2.weight 16x8x1x1
contras1.out_conv.2.bias 16
contras1.down_layer.0.weight 8x16x1x1
contras1.down_layer.0.bias 8
contras1.down_layer.1.weight 8
contras1.down_layer.1.bias 8
contras1.down_layer.1.running_mean 8
contras1.down_layer.1.running_var 8
contras1.down_layer.1.num_batches_tracked -
contras1.origin_conv.weight 8x8x1x1
contras1.trans_conv.weight 8x8x1x1
contras1.trans_conv.bias 8
contras2.out_conv.0.weight 4x4x1x1
contras2.out_conv.0.bias 4
contras2.out_conv.1.weight 4
contras2.out_conv.1.bias 4
contras2.out_conv.1.running_mean 4
contras2.out_conv.1.running_var 4
contras2.out_conv.1.num_batches_tracked -
contras2.out_conv.2.weight 16x4x1x1
contras2.out_conv.2.bias 16
contras2.down_layer.0.weight 4x16x1x1
contras2.down_layer.0.bias 4
contras2.down_layer.1.weight 4
contras2.down_layer.1.bias 4
contras2.down_layer.1.running_mean 4
contras2.down_layer.1.running_var 4
contras2.down_layer.1.num_batches_tracked -
contras2.origin_conv.weight 4x4x1x1
contras2.trans_conv.weight 4x4x1x1
contras2.trans_conv.bias 4
contras3.out_conv.0.weight 4x4x1x1
contras3.out_conv.0.bias 4
contras3.out_conv.1.weight 4
contras3.out_conv.1.bias 4
contras3.out_conv.1.running_mean 4
contras3.out_conv.1.running_var 4
contras3.out_conv.1.num_batches_tracked -
contras3.out_conv.2.weight 32x4x1x1
contras3.out_conv.2.bias 32
contras3.down_layer.0.weight 4x32x1x1
contras3.down_layer.0.bias 4
contras3.down_layer.1.weight 4
contras3.down_layer.1.bias 4
contras3.down_layer.1.running_mean 4
contras3.down_layer.1.running_var 4
contras3.down_layer.1.num_batches_tracked -
contras3.origin_conv.weight 4x4x1x1
contras3.trans_conv.weight 4x4x1x1
contras3.trans_conv.bias 4
contras4.out_conv.0.weight 4x4x1x1
contras4.out_conv.0.bias 4
contras4.out_conv.1.weight 4
contras4.out_conv.1.bias 4
contras4.out_conv.1.running_mean 4
contras4.out_conv.1.running_var 4
contras4.out_conv.1.num_batches_tracked -
contras4.out_conv.2.weight 64x4x1x1
contras4.out_conv.2.bias 64
contras4.down_layer.0.weight 4x64x1x1
contras4.down_layer.0.bias 4
contras4.down_layer.1.weight 4
contras4.down_layer.1.bias 4
contras4.down_layer.1.running_mean 4
contras4.down_layer.1.running_var 4
contras4.down_layer.1.num_batches_tracked -
contras4.origin_conv.weight 4x4x1x1
contras4.trans_conv.weight 4x4x1x1
contras4.trans_conv.bias 4
decoder4.nConvs.0.conv.weight 32x128x3x3
decoder4.nConvs.0.conv.bias 32
decoder4.nConvs.0.norm.weight 32
decoder4.nConvs.0.norm.bias 32
decoder4.nConvs.0.norm.running_mean 32
decoder4.nConvs.0.norm.running_var 32
decoder4.nConvs.0.norm.num_batches_tracked -
decoder4.nConvs.1.conv.weight 32x32x3x3
decoder4.nConvs.1.conv.bias 32
decoder4.nConvs.1.norm.weight 32
decoder4.nConvs.1.norm.bias 32
decoder4.nConvs.1.norm.running_mean 32
decoder4.nConvs.1.norm.running_var 32
decoder4.nConvs.1.norm.num_batches_tracked -
decoder4.sattn.0.weight 64x64x1x1
decoder4.sattn.0.bias 64
decoder3.nConvs.0.conv.weight 16x64x3x3
decoder3.nConvs.0.conv.bias 16
decoder3.nConvs.0.norm.weight 16
decoder3.nConvs.0.norm.bias 16
decoder3.nConvs.0.norm.running_mean 16
decoder3.nConvs.0.norm.running_var 16
decoder3.nConvs.0.norm.num_batches_tracked -
decoder3.nConvs.1.conv.weight 16x16x3x3
decoder3.nConvs.1.conv.bias 16
decoder3.nConvs.1.norm.weight 16
decoder3.nConvs.1.norm.bias 16
decoder3.nConvs.1.norm.running_mean 16
decoder3.nConvs.1.norm.running_var 16
decoder3.nConvs.1.norm.num_batches_tracked -
decoder3.sattn.0.weight 32x32x1x1
decoder3.sattn.0.bias 32
decoder2.nConvs.0.conv.weight 16x32x3x3
decoder2.nConvs.0.conv.bias 16
decoder2.nConvs.0.norm.weight 16
decoder2.nConvs.0.norm.bias 16
decoder2.nConvs.0.norm.running_mean 16
decoder2.nConvs.0.norm.running_var 16
decoder2.nConvs.0.norm.num_batches_tracked -
decoder2.nConvs.1.conv.weight 16x16x3x3
decoder2.nConvs.1.conv.bias 16
decoder2.nConvs.1.norm.weight 16
decoder2.nConvs.1.norm.bias 16
decoder2.nConvs.1.norm.running_mean 16
decoder2.nConvs.1.norm.running_var 16
decoder2.nConvs.1.norm.num_batches_tracked -
decoder2.sattn.0.weight 16x16x1x1
decoder2.sattn.0.bias 16
decoder1.nConvs.0.conv.weight 16x32x3x3
decoder1.nConvs.0.conv.bias 16
decoder1.nConvs.0.norm.weight 16
decoder1.nConvs.0.norm.bias 16
decoder1.nConvs.0.norm.running_mean 16
decoder1.nConvs.0.norm.running_var 16
decoder1.nConvs.0.norm.num_batches_tracked -
decoder1.nConvs.1.conv.weight 16x16x3x3
decoder1.nConvs.1.conv.bias 16
decoder1.nConvs.1.norm.weight 16
decoder1.nConvs.1.norm.bias 16
decoder1.nConvs.1.norm.running_mean 16
decoder1.nConvs.1.norm.running_var 16
decoder1.nConvs.1.norm.num_batches_tracked -
decoder1.sattn.0.weight 16x16x1x1
decoder1.sattn.0.bias 16
outc.0.rebnconvin.conv_s1.weight 8x16x3x3
outc.0.rebnconvin.conv_s1.bias 8
outc.0.rebnconvin.bn_s1.weight 8
outc.0.rebnconvin.bn_s1.bias 8
outc.0.rebnconvin.bn_s1.running_mean 8
outc.0.rebnconvin.bn_s1.running_var 8
outc.0.rebnconvin.bn_s1.num_batches_tracked -
outc.0.rebnconv1.conv_s1.weight 8x8x3x3
outc.0.rebnconv1.conv_s1.bias 8
outc.0.rebnconv1.bn_s1.weight 8
outc.0.rebnconv1.bn_s1.bias 8
outc.0.rebnconv1.bn_s1.running_mean 8
outc.0.rebnconv1.bn_s1.running_var 8
outc.0.rebnconv1.bn_s1.num_batches_tracked -
outc.0.rebnconv2.conv_s1.weight 8x8x3x3
outc.0.rebnconv2.conv_s1.bias 8
outc.0.rebnconv2.bn_s1.weight 8
outc.0.rebnconv2.bn_s1.bias 8
outc.0.rebnconv2.bn_s1.running_mean 8
outc.0.rebnconv2.bn_s1.running_var 8
outc.0.rebnconv2.bn_s1.num_batches_tracked -
outc.0.rebnconv3.conv_s1.weight 8x8x3x3
outc.0.rebnconv3.conv_s1.bias 8
outc.0.rebnconv3.bn_s1.weight 8
outc.0.rebnconv3.bn_s1.bias 8
outc.0.rebnconv3.bn_s1.running_mean 8
outc.0.rebnconv3.bn_s1.running_var 8
outc.0.rebnconv3.bn_s1.num_batches_tracked -
outc.0.rebnconv4.conv_s1.weight 8x8x3x3
outc.0.rebnconv4.conv_s1.bias 8
outc.0.rebnconv4.bn_s1.weight 8
outc.0.rebnconv4.bn_s1.bias 8
outc.0.rebnconv4.bn_s1.running_mean 8
outc.0.rebnconv4.bn_s1.running_var 8
outc.0.rebnconv4.bn_s1.num_batches_tracked -
outc.0.rebnconv5.conv_s1.weight 8x8x3x3
outc.0.rebnconv5.conv_s1.bias 8
outc.0.rebnconv5.bn_s1.weight 8
outc.0.rebnconv5.bn_s1.bias 8
outc.0.rebnconv5.bn_s1.running_mean 8
outc.0.rebnconv5.bn_s1.running_var 8
outc.0.rebnconv5.bn_s1.num_batches_tracked -
outc.0.rebnconv6.conv_s1.weight 8x8x3x3
outc.0.rebnconv6.conv_s1.bias 8
outc.0.rebnconv6.bn_s1.weight 8
outc.0.rebnconv6.bn_s1.bias 8
outc.0.rebnconv6.bn_s1.running_mean 8
outc.0.rebnconv6.bn_s1.running_var 8
outc.0.rebnconv6.bn_s1.num_batches_tracked -
outc.0.rebnconv7.conv_s1.weight 8x8x3x3
outc.0.rebnconv7.conv_s1.bias 8
outc.0.rebnconv7.bn_s1.weight 8
outc.0.rebnconv7.bn_s1.bias 8
outc.0.rebnconv7.bn_s1.running_mean 8
outc.0.rebnconv7.bn_s1.running_var 8
outc.0.rebnconv7.bn_s1.num_batches_tracked -
outc.0.rebnconv6d.conv_s1.weight 8x16x3x3
outc.0.rebnconv6d.conv_s1.bias 8
outc.0.rebnconv6d.bn_s1.weight 8
outc.0.rebnconv6d.bn_s1.bias 8
outc.0.rebnconv6d.bn_s1.running_mean 8
outc.0.rebnconv6d.bn_s1.running_var 8
outc.0.rebnconv6d.bn_s1.num_batches_tracked -
outc.0.rebnconv5d.conv_s1.weight 8x16x3x3
outc.0.rebnconv5d.conv_s1.bias 8
outc.0.rebnconv5d.bn_s1.weight 8
outc.0.rebnconv5d.bn_s1.bias 8
outc.0.rebnconv5d.bn_s1.running_mean 8
outc.0.rebnconv5d.bn_s1.running_var 8
outc.0.rebnconv5d.bn_s1.num_batches_tracked -
outc.0.rebnconv4d.conv_s1.weight 8x16x3x3
outc.0.rebnconv4d.conv_s1.bias 8
outc.0.rebnconv4d.bn_s1.weight 8
outc.0.rebnconv4d.bn_s1.bias 8
outc.0.rebnconv4d.bn_s1.running_mean 8
outc.0.rebnconv4d.bn_s1.running_var 8
outc.0.rebnconv4d.bn_s1.num_batches_tracked -
outc.0.rebnconv3d.conv_s1.weight 8x16x3x3
outc.0.rebnconv3d.conv_s1.bias 8
outc.0.rebnconv3d.bn_s1.weight 8
outc.0.rebnconv3d.bn_s1.bias 8
outc.0.rebnconv3d.bn_s1.running_mean 8
outc.0.rebnconv3d.bn_s1.running_var 8
outc.0.rebnconv3d.bn_s1.num_batches_tracked -
outc.0.rebnconv2d.conv_s1.weight 8x16x3x3
outc.0.rebnconv2d.conv_s1.bias 8
outc.0.rebnconv2d.bn_s1.weight 8
outc.0.rebnconv2d.bn_s1.bias 8
outc.0.rebnconv2d.bn_s1.running_mean 8
outc.0.rebnconv2d.bn_s1.running_var 8
outc.0.rebnconv2d.bn_s1.num_batches_tracked -
outc.0.rebnconv1d.conv_s1.weight 8x16x3x3
outc.0.rebnconv1d.conv_s1.bias 8
outc.0.rebnconv1d.bn_s1.weight 8
outc.0.rebnconv1d.bn_s1.bias 8
outc.0.rebnconv1d.bn_s1.running_mean 8
outc.0.rebnconv1d.bn_s1.running_var 8
outc.0.rebnconv1d.bn_s1.num_batches_tracked -
outc.1.head.0.weight 2x4x7x7
outc.1.out_conv.0.weight 1x10x1x1
"""
# STDecNet(mid_channel=32, num_frame=5) = `single_model.` + SDECNET with a 32-channel head (outc.1.out_conv.0.weight 32x10x1x1)
# + these TDecM tensors (its `bn` is defined but never used in forward).
TDECM = """
multi_model.bn.weight 32
multi_model.bn.bias 32
multi_model.bn.running_mean 32
multi_model.bn.running_var 32
multi_model.bn.num_batches_tracked -
multi_model.origin.0.weight 32x160x1x1
multi_model.origin.0.bias 32
multi_model.origin.1.weight 32
multi_model.origin.1.bias 32
multi_model.origin.1.running_mean 32
multi_model.origin.1.running_var 32
multi_model.origin.1.num_batches_tracked -
multi_model.origin.2.weight 32x32x1x1
multi_model.origin.2.bias 32
multi_model.out_conv.0.weight 32x32x1x1
multi_model.out_conv.0.bias 32
multi_model.out_conv.1.weight 32
multi_model.out_conv.1.bias 32
multi_model.out_conv.1.running_mean 32
multi_model.out_conv.1.running_var 32
multi_model.out_conv.1.num_batches_tracked -
multi_model.out_conv.3.weight 1x32x1x1
multi_model.out_conv.3.bias 1
multi_model.loc_conv.0.weight 32x32x1x1
multi_model.loc_conv.0.bias 32
multi_model.loc_conv.1.weight 32x32x1x1
multi_model.loc_conv.1.bias 32
"""


def parse(text, prefix=""):
    return {prefix + n: tuple(int(d) for d in s.split("x")) if s != "-" else () for n, s in (l.split() for l in text.strip().splitlines())}


def authors_layout(model):
    "The authors' names → shapes, from the committed lists."
    if model == "sd2net": return parse(SDECNET)
    names = parse(SDECNET, "single_model.")
    names["single_model.outc.1.out_conv.0.weight"] = (32, 10, 1, 1)
    return names | parse(TDECM)


def fake_authors_state(model, seed=0):
    "A state dict in the authors' layout with a different value in every tensor (counters: distinct integers)."
    g = torch.Generator().manual_seed(seed)
    def value(i, k, s):
        if not s: return torch.tensor(1000 + i)
        t = torch.randn(s, generator=g)
        return t.abs() + 0.5 if k.endswith("running_var") else t                  # a variance is positive
    return {k: value(i, k, s) for i, (k, s) in enumerate(authors_layout(model).items())}


def ours(model): return SD2Net() if model == "sd2net" else STD2Net()


@pytest.mark.parametrize("model", ["sd2net", "std2net"])
def test_map_reaches_every_committed_name(model):
    km = key_map(model)
    assert len(set(km.values())) == len(km)                                        # one to one
    ignored = {k for k in authors_layout(model) if any(k.startswith(p) for p in IGNORED[model])}
    mapped = {t: tuple(v.shape) for t, v in ours_to_authors(ours(model).state_dict(), model).items()}
    assert mapped == {k: s for k, s in authors_layout(model).items() if k not in ignored}   # names and shapes
    assert len(ignored) == (5 if model == "std2net" else 0)


@pytest.mark.parametrize("model", ["sd2net", "std2net"])
def test_round_trip(model):
    sd = ours(model).state_dict()
    back = authors_to_ours(ours_to_authors(sd, model), model)
    assert list(back) == list(sd) and all(back[k] is sd[k] for k in sd)
    theirs = {k: v for k, v in fake_authors_state(model).items() if not k.startswith("multi_model.bn.")}
    again = ours_to_authors(authors_to_ours(theirs, model), model)
    assert set(again) == set(theirs) and all(again[k] is theirs[k] for k in theirs)


WRAPS = {"trainer": lambda sd: {"epoch": 271, "state_dict": {"model." + k: v for k, v in sd.items()}, "total_loss": [0.9, 0.41]},
         "dataparallel": lambda sd: {"epoch": 3, "state_dict": {"module.model." + k: v for k, v in sd.items()}},
         "model_key": lambda sd: {"model": dict(sd)},
         "numpy_metrics": lambda sd: {"epoch": np.int64(271), "best_miou": np.float64(0.69), "curve": np.linspace(0, 1, 4),
                                      "state_dict": {"model." + k: v for k, v in sd.items()}},
         "bare": lambda sd: dict(sd)}


@pytest.mark.parametrize("wrap", sorted(WRAPS))
def test_sd2net_checkpoint_lands_tensor_by_tensor(wrap, tmp_path):
    theirs = fake_authors_state("sd2net")
    torch.save(WRAPS[wrap](theirs), tmp_path / "SDecNet.pth.tar")
    net = import_weights(tmp_path / "SDecNet.pth.tar")
    assert isinstance(net, SD2Net) and not net.training
    got = net.state_dict()
    for o, t in key_map("sd2net").items(): assert torch.equal(got[o], theirs[t]), (o, t)
    with torch.no_grad(): y = net(torch.randn(1, 1, 32, 32))
    assert y.shape == (1, 1, 32, 32) and torch.isfinite(y).all()


def test_std2net_state_dict_lands_tensor_by_tensor(tmp_path):
    theirs = fake_authors_state("std2net")                               # with the unused BatchNorm3d, as the authors save it
    torch.save({"module." + k: v for k, v in theirs.items()}, tmp_path / "best.pth")
    net = import_weights(tmp_path / "best.pth", "std2net", bdm_impl="reference")
    assert isinstance(net, STD2Net) and not net.training and net.cfg.bdm_impl == "reference"
    got = net.state_dict()
    for o, t in key_map("std2net").items(): assert torch.equal(got[o], theirs[t]), (o, t)


def test_wrong_model_and_wrong_layout(tmp_path):
    sd, st = fake_authors_state("sd2net"), fake_authors_state("std2net")
    torch.save({"state_dict": {"model." + k: v for k, v in sd.items()}}, tmp_path / "sd.pth")
    torch.save(st, tmp_path / "st.pth")
    with pytest.raises(DataError, match="model='sd2net'"): import_weights(tmp_path / "sd.pth", "std2net")
    with pytest.raises(DataError, match="model='std2net'"): import_weights(tmp_path / "st.pth", "sd2net")
    torch.save(SD2Net().state_dict(), tmp_path / "ours.pth")
    with pytest.raises(DataError, match="own sd2net layout"): import_weights(tmp_path / "ours.pth")
    lost = dict(sd); del lost["contras2.trans_conv.bias"]; lost["contras2.extra.weight"] = torch.zeros(1)
    torch.save(lost, tmp_path / "lost.pth")
    with pytest.raises(DataError, match=r"1 keys missing \(contras2.trans_conv.bias\); 1 unexpected \(contras2.extra.weight\)") as e:
        import_weights(tmp_path / "lost.pth")
    assert e.value.path == tmp_path / "lost.pth" and "\n" not in str(e.value)
    other = dict(sd); other["contras1.down_layer.0.weight"] = torch.zeros(16, 16, 1, 1)     # an SDecM with another ratio
    torch.save(other, tmp_path / "other.pth")
    with pytest.raises(DataError, match=r"contras1.down_layer.0.weight is \(16,16,1,1\) in the file, expected \(8,16,1,1\)"):
        import_weights(tmp_path / "other.pth")
    torch.save([1, 2, 3], tmp_path / "list.pth")
    with pytest.raises(DataError, match="no state dict"): import_weights(tmp_path / "list.pth")
    with pytest.raises(ValueError, match="model must be one of"): import_weights(tmp_path / "sd.pth", "unet")
    with pytest.raises(ValueError, match="layout"): import_weights(tmp_path / "sd.pth", head="conv")


@pytest.mark.parametrize("kind", ["truncated", "truncated_legacy", "text", "empty", "missing"])
def test_broken_files(kind, tmp_path):
    f = tmp_path / "SDecNet.pth.tar"
    if kind.startswith("truncated"):
        torch.save({"state_dict": fake_authors_state("sd2net")}, f, _use_new_zipfile_serialization=kind == "truncated")
        blob = f.read_bytes(); f.write_bytes(blob[: len(blob) // 2])
    elif kind == "text": f.write_text("epoch 271\n")
    elif kind == "empty": f.write_bytes(b"")
    with pytest.raises(DataError, match="no such file" if kind == "missing" else "not a PyTorch checkpoint, or truncated") as e:
        import_weights(f)
    assert e.value.path == f and "\n" not in str(e.value)


def _payload(path):
    open(path, "w").write("ran")
    return {}

class Trap:
    "Unpickling this would write a file: safe loading must refuse it without running it."
    def __init__(self, path): self.path = path
    def __reduce__(self): return (_payload, (str(self.path),))


def test_unsafe_objects_are_refused_not_run(tmp_path):
    marker = tmp_path / "ran.txt"
    torch.save({"state_dict": fake_authors_state("sd2net"), "hook": Trap(marker)}, tmp_path / "trap.pth")
    with pytest.raises(DataError, match="refused by safe loading.*_payload"): import_weights(tmp_path / "trap.pth")
    assert not marker.exists()
    torch.save({"args": argparse.Namespace(lr=5e-4), "state_dict": fake_authors_state("sd2net")}, tmp_path / "args.pth")
    with pytest.raises(DataError, match="refused by safe loading.*argparse.Namespace"): import_weights(tmp_path / "args.pth")
